// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using MailKit.Security;
using RelayCore.Auth;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Forwarding;

/// <summary>Client account resolution and configuration checks, and CRAM-MD5 from an md5 secret against E-MailRelay's vectors.</summary>
public sealed class ClientAccountsTests
{
    public static IEnumerable<object[]> PasswdVectors() =>
        File.ReadAllLines(TestData.SecretsPath("passwd-vectors.tsv"))
            .Where(line => line.Length > 0 && !line.StartsWith("#", StringComparison.Ordinal))
            .Select(line => line.Split('\t'))
            .Select(fields => new object[] { fields[0], fields[1] });

    [Theory]
    [MemberData(nameof(PasswdVectors))]
    public void CramMd5FromMd5Secret_EmailRelayVector_AnswersAsThePasswordWould(string password, string md5Secret)
    {
        const string challenge = "<1896.697170952@postoffice.example.net>";
        var mechanism = ClientAccount.WithMd5Secret("alice", md5Secret, "test").CreateMechanism("CRAM-MD5");

        string response = Encoding.UTF8.GetString(Convert.FromBase64String(mechanism.Challenge(Convert.ToBase64String(Encoding.UTF8.GetBytes(challenge)), CancellationToken.None)));

        Assert.Equal(CramMd5.ComputeResponse("alice", password, challenge), response);
    }

    [Fact]
    public void CramMd5FromMd5Secret_Rfc2195Example_GivesTheRfcDigest()
    {
        // RFC 2195 section 2: tim / tanstaaftanstaaf.
        string secret = EmailRelayPasswd.Compute("tanstaaftanstaaf");
        SaslMechanism mechanism = ClientAccount.WithMd5Secret("tim", secret, "test").CreateMechanism("CRAM-MD5");

        string response = mechanism.Challenge("PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+", CancellationToken.None);

        Assert.Equal("dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw", response);
    }

    [Fact]
    public void Resolve_EmailRelayClientAuthFile_FirstLineWithoutSelectorIsTheDefault()
    {
        var accounts = new ClientAccounts(new ForwardingOptions { ClientSecretsPath = TestData.SecretsPath("client.auth") });

        Assert.True(accounts.TryResolve(null, out ClientAccount account));

        Assert.Equal(("alice", ClientAccountKind.Password, "s3cret"), (account.UserName, account.Kind, account.Password));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DefaultOAuthAccount_WithAPasswordAccountToo_RefusedNotSilentlyIgnored(bool asCredential)
    {
        var token = new RelayCore.OAuth.StaticTokenProvider("printer@example.test", RelayCore.OAuth.OAuthAccount.Secure("opaque-token"));
        var options = new ForwardingOptions
        {
            OAuthAccounts = new RelayCore.OAuth.OAuthAccountSet(token, new Dictionary<string, RelayCore.OAuth.IAccessTokenProvider>()),
            Credential = asCredential ? new NetworkCredential("alice", "s3cret") : null,
            ClientAccount = asCredential ? null : "plain:YWxpY2U=:czNjcmV0",
        };

        var error = Assert.Throws<ArgumentException>(() => new ClientAccounts(options));

        Assert.Contains("OAuth2", error.Message);
    }

    [Fact]
    public void Resolve_NoAccountConfigured_SendsWithoutAuth()
    {
        var accounts = new ClientAccounts(new ForwardingOptions());

        Assert.True(accounts.TryResolve(string.Empty, out ClientAccount account));

        Assert.Null(account);
    }

    [Fact]
    public void Resolve_SelectorWithoutSecretsFile_NotFound()
    {
        var accounts = new ClientAccounts(new ForwardingOptions { Credential = new NetworkCredential("alice", "s3cret") });

        Assert.False(accounts.TryResolve("isp2", out _));
    }

    [Theory]
    [InlineData("alice:s3cret")]
    [InlineData("plain:YWxpY2U=")]
    [InlineData("plain:not base64!:czNjcmV0")]
    [InlineData("md5:YWxpY2U=:czNjcmV0")]
    public void ClientAccountString_Malformed_ArgumentException(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => new ClientAccounts(new ForwardingOptions { ClientAccount = text }));

        Assert.Contains("plain:", error.Message);
    }

    [Fact]
    public void Options_CredentialAndClientAccountBoth_ArgumentException()
    {
        var options = new ForwardingOptions { Credential = new NetworkCredential("a", "b"), ClientAccount = "plain:YQ==:Yg==" };

        Assert.Throws<ArgumentException>(() => new NextHopConnector(options));
    }

    [Fact]
    public void Options_OAuthTokenWithoutUser_ArgumentException()
    {
        var options = new ForwardingOptions { OAuthToken = new NetworkCredential(string.Empty, "tok").SecurePassword };

        var error = Assert.Throws<ArgumentException>(() => new NextHopConnector(options));

        Assert.Contains("OAuth2", error.Message);
    }

    [Fact]
    public void Options_PopBeforeSmtpWithOnlyAnMd5Account_ArgumentExceptionBeforeAnyConnection()
    {
        using var context = new ForwardingTestContext();
        context.Options.ClientSecretsPath = context.WriteFile("client.auth", "client md5 alice +mnXk4EFRTMqpx6Rue1+BvXtVy0o4h3INd8z6Fa1Ltc=\n");
        context.Options.PopBeforeSmtp = new PopBeforeSmtpOptions { Server = NextHopAddress.Parse("127.0.0.1:110") };

        var error = Assert.Throws<ArgumentException>(() => new NextHopConnector(context.Options));

        Assert.Contains("password", error.Message);
    }

    [Fact]
    public void Options_BadSecretsLine_SecretsFormatExceptionNamingTheLine()
    {
        using var context = new ForwardingTestContext();
        context.Options.ClientSecretsPath = context.WriteFile("client.auth", "client plain alice\n");

        var error = Assert.Throws<SecretsFormatException>(() => new NextHopConnector(context.Options));

        Assert.Equal(1, error.LineNumber);
    }

    [Fact]
    public void Options_CaFileWithoutCertificates_InvalidDataException()
    {
        using var context = new ForwardingTestContext();
        context.Options.CaFilePath = context.WriteFile("ca.pem", "not a certificate\n");

        Assert.Throws<InvalidDataException>(() => new NextHopConnector(context.Options));
    }

    [Fact]
    public void Options_ZeroResponseTimeout_ArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new NextHopConnector(new ForwardingOptions { ResponseTimeout = TimeSpan.Zero }));
    }
}
