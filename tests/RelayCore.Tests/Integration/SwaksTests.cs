// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.Threading.Tasks;
using RelayCore.Spool;
using RelayCore.Tests.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Integration;

public class SwaksTests
{
    private readonly ITestOutputHelper _output;

    public SwaksTests(ITestOutputHelper output) => _output = output;

    private static List<string> Arguments(TestServer server, params string[] extra)
    {
        var arguments = new List<string>
        {
            "--server", "127.0.0.1", "--port", IntegrationServer.Port(server).ToString(),
            "--from", "sender@example.com", "--to", "rcpt@example.net",
            "--helo", "swaks.example", "--header", "Subject: from swaks", "--body", "Sent by swaks.",
            "--timeout", "20",
        };
        arguments.AddRange(extra);
        return arguments;
    }

    [Fact]
    public async Task Swaks_PlainSubmission_IsSpooled()
    {
        if (!Peer.IsAvailable("swaks", _output))
        {
            return;
        }
        (TestServer server, _) = await IntegrationServer.StartAsync();
        await using TestServer running = server;

        (int exitCode, string output) = await Peer.RunAsync("swaks", Arguments(server).ToArray());

        Assert.True(exitCode == 0, output);
        (Envelope envelope, string content) = IntegrationServer.SingleMessage(server);
        Assert.Equal("sender@example.com", envelope.From);
        Assert.Equal(new[] { "rcpt@example.net" }, envelope.ToRemote);
        Assert.Equal("127.0.0.1", envelope.Client);
        Assert.StartsWith("Received: from swaks.example ([127.0.0.1]) by relay.test with ESMTP ; ", content);
        Assert.Contains("Subject: from swaks\r\n", content);
        Assert.Contains("Sent by swaks.", content);
    }

    [Fact]
    public async Task Swaks_StartTlsWithTestCertificate_IsSpooledAsEsmtps()
    {
        if (!Peer.IsAvailable("swaks", _output))
        {
            return;
        }
        (TestServer server, TestCertificate certificate) = await IntegrationServer.StartAsync();
        await using TestServer running = server;

        (int exitCode, string output) = await Peer.RunAsync("swaks", Arguments(server, "--tls", "--tls-verify", "--tls-ca-path", certificate.CertificatePemPath, "--tls-sni", "relay.test").ToArray());

        Assert.True(exitCode == 0, output);
        Assert.Contains(" with ESMTPS ; ", IntegrationServer.SingleMessage(server).Content);
    }

    [Theory]
    [InlineData("PLAIN", IntegrationServer.User, IntegrationServer.Password)]
    [InlineData("LOGIN", IntegrationServer.User, IntegrationServer.Password)]
    [InlineData("CRAM-MD5", IntegrationServer.User, IntegrationServer.Password)]
    [InlineData("CRAM-MD5", IntegrationServer.Md5User, IntegrationServer.Md5Password)]
    public async Task Swaks_Auth_RightPassword_IsSpooledWithAuthentication(string mechanism, string user, string password)
    {
        if (!Peer.IsAvailable("swaks", _output))
        {
            return;
        }
        (TestServer server, _) = await IntegrationServer.StartAsync(o => o.RequireAuthentication = true);
        await using TestServer running = server;

        (int exitCode, string output) = await Peer.RunAsync("swaks", Arguments(server, "--auth", mechanism, "--auth-user", user, "--auth-password", password).ToArray());

        Assert.True(exitCode == 0, output);
        (Envelope envelope, string content) = IntegrationServer.SingleMessage(server);
        Assert.Equal(user, envelope.Authentication);
        Assert.Contains(" with ESMTPA ; ", content);
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    [InlineData("CRAM-MD5")]
    public async Task Swaks_Auth_WrongPassword_IsRefusedAndNothingSpooled(string mechanism)
    {
        if (!Peer.IsAvailable("swaks", _output))
        {
            return;
        }
        (TestServer server, _) = await IntegrationServer.StartAsync(o => o.RequireAuthentication = true);
        await using TestServer running = server;

        (int exitCode, string output) = await Peer.RunAsync("swaks", Arguments(server, "--auth", mechanism, "--auth-user", IntegrationServer.User, "--auth-password", "wrong").ToArray());

        Assert.NotEqual(0, exitCode);
        Assert.Contains("535 5.7.8", output);
        Assert.Empty(server.AllSpoolFiles());
    }
}
