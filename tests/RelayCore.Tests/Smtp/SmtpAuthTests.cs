// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using RelayCore.Auth;
using RelayCore.Hosting;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Smtp;

public class SmtpAuthTests
{
    private static string Secrets(string extra = "") =>
        "server plain alice s3cret\nserver md5 carol " + EmailRelayPasswd.Compute("md5-pw") + "\n" + extra;

    private static Task<TestServer> StartAsync(string secrets, Action<RelayServerOptions> configure = null)
    {
        string directory = TestServer.NewDirectory();
        string path = Path.Combine(directory, "server.auth");
        File.WriteAllText(path, secrets);
        return TestServer.StartAsync(o =>
        {
            o.ServerSecretsPath = path;
            configure?.Invoke(o);
        }, directory);
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private static async Task<SmtpTestClient> GreetAsync(TestServer server)
    {
        SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();
        string ehlo = await client.CommandAsync("EHLO client.example");
        Assert.Contains("250-AUTH PLAIN LOGIN CRAM-MD5", ehlo);
        return client;
    }

    [Theory]
    [InlineData("s3cret", "235 2.7.0")]
    [InlineData("wrong", "535 5.7.8")]
    public async Task AuthPlain_InitialResponse_ChecksPassword(string password, string expected)
    {
        await using TestServer server = await StartAsync(Secrets());
        using SmtpTestClient client = await GreetAsync(server);

        string reply = await client.CommandAsync("AUTH PLAIN " + Base64("\0alice\0" + password));

        Assert.StartsWith(expected, reply);
    }

    [Fact]
    public async Task AuthPlain_WithoutInitialResponse_AsksWithEmptyChallenge()
    {
        await using TestServer server = await StartAsync(Secrets());
        using SmtpTestClient client = await GreetAsync(server);

        Assert.Equal("334 ", await client.CommandAsync("AUTH PLAIN"));
        Assert.StartsWith("235", await client.CommandAsync(Base64("\0alice\0s3cret")));
    }

    [Theory]
    [InlineData("s3cret", "235 2.7.0")]
    [InlineData("wrong", "535 5.7.8")]
    public async Task AuthLogin_UserThenPassword_ChecksPassword(string password, string expected)
    {
        await using TestServer server = await StartAsync(Secrets());
        using SmtpTestClient client = await GreetAsync(server);

        Assert.Equal("334 " + Base64("Username:"), await client.CommandAsync("AUTH LOGIN"));
        Assert.Equal("334 " + Base64("Password:"), await client.CommandAsync(Base64("alice")));
        string reply = await client.CommandAsync(Base64(password));

        Assert.StartsWith(expected, reply);
    }

    [Theory]
    [InlineData("alice", "s3cret", "235 2.7.0")]
    [InlineData("alice", "wrong", "535 5.7.8")]
    [InlineData("carol", "md5-pw", "235 2.7.0")]
    [InlineData("carol", "wrong", "535 5.7.8")]
    public async Task AuthCramMd5_PlainOrMd5Secret_ChecksDigest(string user, string password, string expected)
    {
        await using TestServer server = await StartAsync(Secrets());
        using SmtpTestClient client = await GreetAsync(server);
        string challengeReply = await client.CommandAsync("AUTH CRAM-MD5");
        string challenge = Encoding.ASCII.GetString(Convert.FromBase64String(challengeReply.Substring(4)));

        string reply = await client.CommandAsync(Base64(CramMd5.ComputeResponse(user, password, challenge)));

        Assert.StartsWith(expected, reply);
    }

    [Fact]
    public async Task AuthPlain_Md5OnlyAccount_IsRefused()
    {
        await using TestServer server = await StartAsync(Secrets());
        using SmtpTestClient client = await GreetAsync(server);

        Assert.StartsWith("535", await client.CommandAsync("AUTH PLAIN " + Base64("\0carol\0md5-pw")));
    }

    [Fact]
    public async Task Auth_Authenticated_EnvelopeAndReceivedShowIt()
    {
        await using TestServer server = await StartAsync("server plain b+2Fo+20b wh+3Dt\n");
        using SmtpTestClient client = await GreetAsync(server);
        await client.CommandAsync("AUTH PLAIN " + Base64("\0b/o b\0wh=t"));
        await client.OpenTransactionAsync();
        string reply = await client.DataAsync("x");

        string id = TestServer.IdOf(reply);
        Assert.Equal("b/o+20b", server.ReadEnvelope(id).Authentication);
        Assert.Contains(" with ESMTPA ; ", server.ReadContent(id));
    }

    [Fact]
    public async Task Auth_ClientCancels_Gets501()
    {
        await using TestServer server = await StartAsync(Secrets());
        using SmtpTestClient client = await GreetAsync(server);
        await client.CommandAsync("AUTH LOGIN");

        Assert.StartsWith("501 5.0.0", await client.CommandAsync("*"));
        Assert.Equal("250 2.0.0 OK", await client.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Auth_UnknownMechanism_Gets504()
    {
        await using TestServer server = await StartAsync(Secrets());
        using SmtpTestClient client = await GreetAsync(server);

        Assert.StartsWith("504 5.5.4", await client.CommandAsync("AUTH XOAUTH2"));
    }

    [Fact]
    public async Task Auth_Twice_Gets503()
    {
        await using TestServer server = await StartAsync(Secrets());
        using SmtpTestClient client = await GreetAsync(server);
        await client.CommandAsync("AUTH PLAIN " + Base64("\0alice\0s3cret"));

        Assert.StartsWith("503 5.5.1", await client.CommandAsync("AUTH PLAIN " + Base64("\0alice\0s3cret")));
    }

    [Fact]
    public async Task Auth_LogLines_NeverHoldTheSecret()
    {
        await using TestServer server = await StartAsync(Secrets());
        string initial = Base64("\0alice\0s3cret");
        using (SmtpTestClient plain = await GreetAsync(server))
        {
            Assert.StartsWith("235", await plain.CommandAsync("AUTH PLAIN " + initial));
        }
        using SmtpTestClient login = await GreetAsync(server);
        await login.CommandAsync("AUTH LOGIN");
        await login.CommandAsync(Base64("alice"));

        Assert.StartsWith("235", await login.CommandAsync(Base64("s3cret")));

        Assert.DoesNotContain(server.LogLines, line => line.Contains(initial) || line.Contains(Base64("s3cret")) || line.Contains("s3cret"));
        Assert.Contains(server.LogLines, line => line.Contains("AUTH PLAIN ****"));
    }

    [Fact]
    public async Task RequireAuthentication_Unauthenticated_Gets530()
    {
        await using TestServer server = await StartAsync(Secrets(), o => o.RequireAuthentication = true);
        using SmtpTestClient client = await GreetAsync(server);

        Assert.StartsWith("530 5.7.0", await client.CommandAsync("MAIL FROM:<a@b>"));
        await client.CommandAsync("AUTH PLAIN " + Base64("\0alice\0s3cret"));
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<a@b>"));
    }

    [Theory]
    [InlineData("server none 127.0.0.1 lan\n")]
    [InlineData("server none 127.0.0.0/8 lan\n")]
    [InlineData("server none 127.0.0.* lan\n")]
    public async Task RequireAuthentication_TrustedRange_SkipsAuth(string trustedLine)
    {
        await using TestServer server = await StartAsync(Secrets(trustedLine), o => o.RequireAuthentication = true);
        using SmtpTestClient client = await GreetAsync(server);

        string reply = await client.CommandAsync("MAIL FROM:<a@b>");

        Assert.StartsWith("250 2.1.0", reply);
    }

    [Fact]
    public async Task RequireAuthentication_OtherTrustedRange_StillNeedsAuth()
    {
        await using TestServer server = await StartAsync(Secrets("server none 127.0.0.2 lan\n"), o => o.RequireAuthentication = true);
        using SmtpTestClient client = await GreetAsync(server);

        Assert.StartsWith("530 5.7.0", await client.CommandAsync("MAIL FROM:<a@b>"));
    }

    [Fact]
    public async Task Auth_NoSecretsFile_IsNotAvailable()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");

        Assert.StartsWith("502 5.5.1", await client.CommandAsync("AUTH PLAIN " + Base64("\0alice\0s3cret")));
    }
}
