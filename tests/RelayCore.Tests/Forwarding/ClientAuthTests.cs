// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Linq;
using System.Net;
using System.Text.Json;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

/// <summary>Client accounts and SASL mechanisms against a real aiosmtpd next hop that records the mechanism and user it saw.</summary>
public sealed class ClientAuthTests
{
    private const string Md5OfS3cret = "+mnXk4EFRTMqpx6Rue1+BvXtVy0o4h3INd8z6Fa1Ltc=";

    private readonly ITestOutputHelper _output;

    public ClientAuthTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    [InlineData("CRAM-MD5")]
    public async Task Connect_CredentialWithPreferredMechanism_HopSeesThatMechanismAndUser(string mechanism)
    {
        await WithHopAsync(async (context, hop) =>
        {
            context.Options.Credential = new NetworkCredential("alice", "s3cret");
            context.Options.AuthMechanisms.Add(mechanism);

            using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

            Assert.Equal(mechanism, client.AuthenticationMechanism);
            AssertAuthenticated(hop, mechanism, "alice");
        });
    }

    [Fact]
    public async Task Connect_NoPreference_UsesCramMd5AsStrongestOffered()
    {
        await WithHopAsync(async (context, hop) =>
        {
            context.Options.Credential = new NetworkCredential("alice", "s3cret");

            using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

            AssertAuthenticated(hop, "CRAM-MD5", "alice");
        });
    }

    [Fact]
    public async Task Connect_CramMd5Avoided_FallsToPlain()
    {
        await WithHopAsync(async (context, hop) =>
        {
            context.Options.Credential = new NetworkCredential("alice", "s3cret");
            context.Options.AvoidAuthMechanisms.Add("cram-md5");

            using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

            AssertAuthenticated(hop, "PLAIN", "alice");
        });
    }

    [Theory]
    [InlineData("client plain alice s3cret", "CRAM-MD5")]
    [InlineData("client plain:b YWxpY2U= czNjcmV0", "CRAM-MD5")]
    [InlineData("client md5 alice " + Md5OfS3cret, "CRAM-MD5")]
    [InlineData("client oauth alice tok-123", "XOAUTH2")]
    public async Task Connect_SecretsFileClientLine_LogsInWithTheMechanismItServes(string line, string mechanism)
    {
        await WithHopAsync(async (context, hop) =>
        {
            context.Options.ClientSecretsPath = context.WriteFile("client.auth", "# forwarding account\n" + line + "\n");

            using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

            AssertAuthenticated(hop, mechanism, "alice");
        });
    }

    [Fact]
    public async Task Connect_XtextUserAndPassword_DecodedBeforeLogin()
    {
        await WithHopAsync(
            async (context, hop) =>
            {
                context.Options.ClientSecretsPath = context.WriteFile("client.auth", "client plain b+2Fo+20b wh+3Dt\n");
                context.Options.AuthMechanisms.Add("PLAIN");

                using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

                AssertAuthenticated(hop, "PLAIN", "b/o b");
            },
            "--account", "b/o b:wh=t");
    }

    [Fact]
    public async Task Connect_Md5SecretWithPlainPreferred_FailsBeforeSendingAnything()
    {
        await WithHopAsync(async (context, hop) =>
        {
            context.Options.ClientSecretsPath = context.WriteFile("client.auth", "client md5 alice " + Md5OfS3cret + "\n");
            context.Options.AuthMechanisms.Add("PLAIN");

            var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token));

            Assert.Equal(ConnectionStep.Auth, error.Step);
            Assert.False(error.IsTransient);
            Assert.Empty(hop.Events("auth"));
        });
    }

    [Fact]
    public async Task Connect_SelectorGiven_UsesTheLineWithThatFifthField()
    {
        await WithHopAsync(
            async (context, hop) =>
            {
                context.Options.ClientSecretsPath = context.WriteFile("client.auth", "client plain alice s3cret\nclient plain bob b0b-pw isp2\n");

                using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, "isp2", context.Token);

                AssertAuthenticated(hop, "CRAM-MD5", "bob");
            },
            "--account", "bob:b0b-pw");
    }

    [Fact]
    public async Task Connect_NoSelector_UsesTheLineWithoutOne()
    {
        await WithHopAsync(
            async (context, hop) =>
            {
                context.Options.ClientSecretsPath = context.WriteFile("client.auth", "client plain bob b0b-pw isp2\nclient plain alice s3cret\n");

                using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, string.Empty, context.Token);

                AssertAuthenticated(hop, "CRAM-MD5", "alice");
            },
            "--account", "bob:b0b-pw");
    }

    [Fact]
    public async Task Connect_UnknownSelector_FailsWithoutConnecting()
    {
        await WithHopAsync(async (context, hop) =>
        {
            context.Options.ClientSecretsPath = context.WriteFile("client.auth", "client plain alice s3cret\n");

            var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(hop.Address, "nobody", context.Token));

            Assert.Equal(ConnectionStep.Auth, error.Step);
            Assert.Contains("'nobody'", error.Message);
            Assert.Empty(hop.Events("connect"));
        });
    }

    [Fact]
    public async Task Connect_ClientAccountString_DecodesBase64UserAndPassword()
    {
        await WithHopAsync(async (context, hop) =>
        {
            context.Options.ClientAccount = "plain:YWxpY2U=:czNjcmV0";
            context.Options.AuthMechanisms.Add("LOGIN");

            using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

            AssertAuthenticated(hop, "LOGIN", "alice");
        });
    }

    [Fact]
    public async Task Connect_OAuthTokenParameter_LogsInWithXOAuth2AsTheCredentialUser()
    {
        await WithHopAsync(async (context, hop) =>
        {
            context.Options.Credential = new NetworkCredential("alice", string.Empty);
            context.Options.OAuthToken = new NetworkCredential(string.Empty, "tok-123").SecurePassword;

            using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

            AssertAuthenticated(hop, "XOAUTH2", "alice");
        });
    }

    [Fact]
    public async Task Connect_WrongPassword_FailsAtAuthWith535NotTransient()
    {
        await WithHopAsync(async (context, hop) =>
        {
            context.Options.Credential = new NetworkCredential("alice", "wrong");

            var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token));

            Assert.Equal(ConnectionStep.Auth, error.Step);
            Assert.Equal(535, error.ReplyCode);
            Assert.False(error.IsTransient);
            Assert.DoesNotContain("wrong", context.Log);
        });
    }

    [Fact]
    public async Task Connect_AccountButHopOffersNoAuth_RefusesToSendUnauthenticated()
    {
        await WithHopAsync(
            async (context, hop) =>
            {
                context.Options.Credential = new NetworkCredential("alice", "s3cret");

                var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token));

                Assert.Equal(ConnectionStep.Auth, error.Step);
                Assert.Contains("offers no AUTH", error.Message);
            },
            "--mechanisms", string.Empty);
    }

    [Fact]
    public async Task Connect_PlainOnlyOverPlaintextWithTlsWhenOffered_RefusesToRevealPassword()
    {
        await WithHopAsync(
            async (context, hop) =>
            {
                context.Options.Tls = ClientTlsMode.StartTlsWhenOffered;
                context.Options.Credential = new NetworkCredential("alice", "s3cret");

                var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token));

                Assert.Equal(ConnectionStep.Auth, error.Step);
                Assert.Contains("unencrypted", error.Message);
                Assert.Empty(hop.Events("auth"));
            },
            "--mechanisms", "PLAIN,LOGIN");
    }

    [Fact]
    public async Task Connect_PlainOverPlaintextWithTlsNone_AllowedAndWarned()
    {
        await WithHopAsync(
            async (context, hop) =>
            {
                context.Options.Credential = new NetworkCredential("alice", "s3cret");

                using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

                AssertAuthenticated(hop, "PLAIN", "alice");
                Assert.Contains(context.LogLines, line => line.Contains("Warning") && line.Contains("unencrypted"));
            },
            "--mechanisms", "PLAIN");
    }

    [Fact]
    public async Task Connect_DebugLog_MasksTheSecrets()
    {
        await WithHopAsync(
            async (context, hop) =>
            {
                context.Options.Credential = new NetworkCredential("alice", "s3cret");

                using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

                Assert.Contains(context.LogLines, line => line.Contains("C: AUTH PLAIN"));
                Assert.DoesNotContain(System.Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("\0alice\0s3cret")), context.Log);
                Assert.DoesNotContain("s3cret", context.Log);
            },
            "--mechanisms", "PLAIN");
    }

    private static void AssertAuthenticated(AuthNextHop hop, string mechanism, string user)
    {
        JsonElement auth = Assert.Single(hop.Events("auth"));
        Assert.Equal(mechanism, auth.GetProperty("mechanism").GetString());
        Assert.Equal(user, auth.GetProperty("user").GetString());
        Assert.True(auth.GetProperty("ok").GetBoolean(), hop.Output);
    }

    /// <summary>Runs a test against a plaintext next hop with the accounts alice:s3cret and the token alice:tok-123 (Tls None unless the test says otherwise).</summary>
    private async Task WithHopAsync(System.Func<ForwardingTestContext, AuthNextHop, Task> test, params string[] extraArguments)
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        string[] arguments = new[] { "--account", "alice:s3cret", "--oauth", "alice:tok-123" }.Concat(extraArguments).ToArray();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory, arguments);
        context.Options.Tls = ClientTlsMode.None;
        await test(context, hop);
    }
}
