// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Linq;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

/// <summary>
/// Next hops reached through real SOCKS proxies (E-MailRelay's <c>host:port@socks-host:socks-port</c>):
/// dante for SOCKS 5, OpenSSH's <c>ssh -D</c> for SOCKS 4a (dante has no 4a); each proxy's own log proves the path.
/// </summary>
public sealed class SocksTests
{
    private readonly ITestOutputHelper _output;

    public SocksTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Connect_Socks5ThroughDante_DanteRelaysTheOneConnection()
    {
        if (!AuthNextHop.IsAvailable(_output) || !DanteSocks.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        await using DanteSocks dante = await DanteSocks.StartAsync(context.Directory);
        context.Options.Tls = ClientTlsMode.None;
        context.Options.SocksProtocol = SocksProtocol.Socks5;

        using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(NextHopAddress.Parse("127.0.0.1:" + hop.Port + "@127.0.0.1:" + dante.Port), null, context.Token);

        Assert.True(client.IsConnected);
        Assert.Single(hop.Events("connect"));
        Assert.True(dante.ConnectionsTo(hop.Port) == 1, dante.Log);
    }

    [Fact]
    public async Task Forward_Socks5ToAPipeliningHop_WholeGroupSentThroughTheProxy()
    {
        if (!AuthNextHop.IsAvailable(_output) || !DanteSocks.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory, "--pipelining");
        await using DanteSocks dante = await DanteSocks.StartAsync(context.Directory);
        context.Options.Tls = ClientTlsMode.None;
        context.Options.SocksProtocol = SocksProtocol.Socks5;
        context.Options.NextHop = NextHopAddress.Parse("127.0.0.1:" + hop.Port + "@127.0.0.1:" + dante.Port);
        using var spool = new ForwardingSpool();
        await spool.AddManyAsync(2);
        await using var agent = new ForwardingAgent(context.Options);

        ForwardingSummary summary = await agent.ForwardAsync(spool.Spool, null, null, context.Token);

        Assert.Equal(2, summary.Sent);
        Assert.All(hop.Events("message"), message => Assert.True(message.GetProperty("data_in_group").GetBoolean()));
        Assert.True(dante.ConnectionsTo(hop.Port) == 1, dante.Log);
    }

    [Fact]
    public async Task Connect_Socks5WithBindAddress_DanteSeesThatSourceAddress()
    {
        if (!AuthNextHop.IsAvailable(_output) || !DanteSocks.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        await using DanteSocks dante = await DanteSocks.StartAsync(context.Directory);
        context.Options.Tls = ClientTlsMode.None;
        context.Options.SocksProtocol = SocksProtocol.Socks5;
        context.Options.LocalAddress = System.Net.IPAddress.Parse("127.0.0.2");

        using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(NextHopAddress.Parse("127.0.0.1:" + hop.Port + "@127.0.0.1:" + dante.Port), null, context.Token);

        Assert.Contains("tcp/connect [: 127.0.0.2.", dante.Log);
    }

    [Fact]
    public async Task Connect_Socks4aThroughSsh_ProxyResolvesTheHostName()
    {
        if (!AuthNextHop.IsAvailable(_output) || !SshSocks.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        await using SshSocks ssh = await SshSocks.StartAsync(context.Directory);
        context.Options.Tls = ClientTlsMode.None;
        context.Options.SocksProtocol = SocksProtocol.Socks4a;

        using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(NextHopAddress.Parse("localhost:" + hop.Port + "@127.0.0.1:" + ssh.Port), null, context.Token);

        Assert.True(client.IsConnected);
        Assert.Single(hop.Events("connect"));
        Assert.True(ssh.SocksRequests == 1 && ssh.TunnelledConnections == 1, ssh.Log);
    }

    [Fact]
    public async Task Probe_ThroughDante_ReportsTheSocksStep()
    {
        if (!AuthNextHop.IsAvailable(_output) || !DanteSocks.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        await using DanteSocks dante = await DanteSocks.StartAsync(context.Directory);
        context.Options.Tls = ClientTlsMode.None;
        context.Options.SocksProtocol = SocksProtocol.Socks5;
        context.Options.NextHop = NextHopAddress.Parse("127.0.0.1:" + hop.Port + "@127.0.0.1:" + dante.Port);

        ConnectionProbeResult result = await ConnectionProbe.RunAsync(context.Options, null, context.Token);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(
            new[] { "Pop Skipped", "Socks Succeeded", "Greeting Succeeded", "Ehlo Succeeded", "Tls Skipped", "Auth Skipped" },
            result.Steps.Select(s => s.Step + " " + s.Outcome));
        Assert.Equal("through SOCKS 5 proxy 127.0.0.1:" + dante.Port, result.Steps[1].Detail);
    }

    [Fact]
    public async Task Connect_Socks4aProxyNotListening_FailsAtConnectTransient()
    {
        using var context = new ForwardingTestContext();
        int closed = LoopbackPort.Next();

        var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() =>
            new NextHopConnector(context.Options).ConnectAsync(NextHopAddress.Parse("localhost:25@127.0.0.1:" + closed), null, context.Token));

        Assert.Equal(ConnectionStep.Connect, error.Step);
        Assert.True(error.IsTransient);
        Assert.Contains("SOCKS proxy", error.Message);
    }
}
