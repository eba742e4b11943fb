// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Hosting;

public class RelayServerTests
{
    private readonly ITestOutputHelper _output;

    public RelayServerTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string, string> BadOptions() => new TheoryData<string, string>
    {
        { "no-spool", "SpoolPath" },
        { "tls-port-without-certificate", "Implicit-TLS ports need a certificate" },
        { "require-tls-without-certificate", "RequireTls needs a certificate" },
        { "max-connections-zero", "MaxConnections must be at least 1" },
        { "max-recipients-zero", "MaxRecipients must be at least 1" },
        { "short-lines", "MaxLineLength must be at least 512" },
        { "zero-idle", "IdleTimeout must be positive" },
        { "negative-size", "MaxMessageSize cannot be negative" },
        { "bad-port", "out of range" },
        { "auth-without-secrets", "RequireAuthentication needs a server secrets file" },
        { "missing-secrets", "cannot be read" },
        { "bad-secrets", "line 2" },
        { "missing-certificate", "certificate cannot be loaded" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task StartAsync_BadOptions_ThrowsArgumentExceptionSayingWhy(string problem, string message)
    {
        string directory = TestServer.NewDirectory();
        try
        {
            var options = new RelayServerOptions { SpoolPath = Path.Combine(directory, "spool") };
            options.Ports.Add(0);
            options.ListenAddresses.Add(IPAddress.Loopback);
            string badSecrets = Path.Combine(directory, "bad.auth");
            File.WriteAllText(badSecrets, "server plain alice pw\nserver bogus x y\n");
            Action<RelayServerOptions> breakIt = problem switch
            {
                "no-spool" => o => o.SpoolPath = " ",
                "tls-port-without-certificate" => o => o.ImplicitTlsPorts.Add(0),
                "require-tls-without-certificate" => o => o.RequireTls = true,
                "max-connections-zero" => o => o.MaxConnections = 0,
                "max-recipients-zero" => o => o.MaxRecipients = 0,
                "short-lines" => o => o.MaxLineLength = 100,
                "zero-idle" => o => o.IdleTimeout = TimeSpan.Zero,
                "negative-size" => o => o.MaxMessageSize = -1,
                "bad-port" => o => o.Ports.Add(70000),
                "auth-without-secrets" => o => o.RequireAuthentication = true,
                "missing-secrets" => o => o.ServerSecretsPath = Path.Combine(directory, "missing.auth"),
                "bad-secrets" => o => o.ServerSecretsPath = badSecrets,
                _ => o => o.CertificatePath = Path.Combine(directory, "missing.pem"),
            };
            breakIt(options);

            var error = await Assert.ThrowsAsync<ArgumentException>(() => RelayServer.StartAsync(options, CancellationToken.None));

            Assert.Contains(message, error.Message);
            Assert.False(Directory.Exists(Path.Combine(directory, "spool")) && Directory.EnumerateFiles(Path.Combine(directory, "spool")).Any());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task StartAsync_NoAddresses_ListensOnLoopbackWithOnePort()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.ListenAddresses.Clear());

        Assert.Contains(server.Server.Endpoints, e => e.Address.Equals(IPAddress.Loopback));
        Assert.Single(server.Server.Endpoints.Select(e => e.Port).Distinct());
        Assert.All(server.Server.Endpoints, e => Assert.True(IPAddress.IsLoopback(e.Address)));
        Assert.True(server.Server.IsRunning);
        Assert.Equal("relay.test", server.Server.Domain);
    }

    [Fact]
    public async Task StartAsync_IPv6Loopback_AcceptsIPv6Clients()
    {
        if (!Socket.OSSupportsIPv6)
        {
            _output.WriteLine("SKIPPED LOUDLY: this machine has no IPv6; the IPv6 listener was not exercised.");
            return;
        }
        await using TestServer server = await TestServer.StartAsync(o => o.ListenAddresses.Add(IPAddress.IPv6Loopback));
        IPEndPoint v6 = server.Server.Endpoints.Single(e => e.AddressFamily == AddressFamily.InterNetworkV6);
        using SmtpTestClient client = await server.ConnectAsync(v6);

        string reply = await client.SubmitAsync("a@b", "c@d", "over v6");

        Assert.Equal("::1", server.ReadEnvelope(TestServer.IdOf(reply)).Client);
    }

    [Fact]
    public async Task StartAsync_StaleReceiptInSpool_IsRecovered()
    {
        string directory = TestServer.NewDirectory();
        string spool = Path.Combine(directory, "spool");
        Directory.CreateDirectory(spool);
        // A receipt by a process that no longer runs (no such pid) is what a crash leaves.
        File.WriteAllText(Path.Combine(spool, "emailrelay.999999999.1700000000.1.envelope.new"), string.Empty);
        File.WriteAllText(Path.Combine(spool, "emailrelay.999999999.1700000000.1.content"), "partial");

        await using TestServer server = await TestServer.StartAsync(directory: directory);

        Assert.Empty(server.AllSpoolFiles());
    }

    [Fact]
    public async Task StopAsync_IdleSession_Gets421AndCompletionEnds()
    {
        TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();

        await server.DisposeAsync();

        Assert.StartsWith("421 4.3.2", await client.ReadReplyAsync());
        Assert.True(server.Server.Completion.IsCompleted);
        Assert.False(server.Server.IsRunning);
    }

    [Fact]
    public async Task StopAsync_SessionMidData_FinishesTheMessageFirst()
    {
        TestServer server = await TestServer.StartAsync(o => o.ShutdownGracePeriod = TimeSpan.FromSeconds(10));
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");
        await client.OpenTransactionAsync();
        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: during stop\r\n");

        Task stopping = server.DisposeAsync().AsTask();
        await TestServer.WaitUntilAsync(() => !server.Server.IsRunning, "the server begins stopping");
        string stored = await client.CommandAsync("\r\nbody\r\n.");
        string goodbye = await client.ReadReplyAsync();
        await stopping;

        Assert.StartsWith("250 2.0.0 OK id=", stored);
        Assert.StartsWith("421 4.3.2", goodbye);
    }

    [Fact]
    public async Task GetStatistics_AfterTraffic_CountsConnectionsMessagesAndBytes()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.Anonymous = true);
        using (SmtpTestClient client = await server.ConnectAsync())
        {
            await client.SubmitAsync("a@b", "c@d", "12345678");
            await client.CommandAsync("QUIT");
        }

        await TestServer.WaitUntilAsync(() => server.Server.GetStatistics().ConnectionsActive == 0, "the connection is closed");
        RelayServerStatistics statistics = server.Server.GetStatistics();

        Assert.Equal(1, statistics.ConnectionsTotal);
        Assert.Equal(1, statistics.MessagesAccepted);
        Assert.Equal(10, statistics.BytesReceived);
    }

    [Theory]
    [InlineData(false, "554 5.7.1")]
    [InlineData(true, "220 relay.test")]
    public async Task RemoteClient_FromNonLoopbackAddress_IsRefusedUnlessAllowed(bool allowRemoteClients, string expected)
    {
        IPAddress local = NonLoopbackAddress();
        if (local == null)
        {
            _output.WriteLine("SKIPPED LOUDLY: no non-loopback IPv4 address on this machine; only the policy unit test (ClientAddressPolicy) covers refusal.");
            return;
        }
        await using TestServer server = await TestServer.StartAsync(o =>
        {
            o.ListenAddresses.Clear();
            o.ListenAddresses.Add(local);
            o.AllowRemoteClients = allowRemoteClients;
        });
        using SmtpTestClient client = await SmtpTestClient.ConnectAsync(server.Server.Endpoints.Single(), new IPEndPoint(local, 0));

        string reply = await client.ReadReplyAsync();

        Assert.StartsWith(expected, reply);
        Assert.Equal(allowRemoteClients, !await client.WaitForCloseAsync(TimeSpan.FromMilliseconds(300)));
    }

    private static IPAddress NonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(u => u.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
}
