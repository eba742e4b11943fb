// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

/// <summary>The TCP part of a forwarding session: bind address, IPv6, and the connect and response timeouts.</summary>
public sealed class ConnectPathTests
{
    private readonly ITestOutputHelper _output;

    public ConnectPathTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Connect_BindAddressSet_HopSeesThatSourceAddress()
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        context.Options.Tls = ClientTlsMode.None;
        context.Options.LocalAddress = IPAddress.Parse("127.0.0.2");

        using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

        JsonElement connect = Assert.Single(hop.Events("connect"));
        Assert.Equal("127.0.0.2", connect.GetProperty("peer")[0].GetString());
    }

    [Fact]
    public async Task Connect_Ipv6NextHop_ConnectsOverIpv6()
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory, "--host", "::1");
        context.Options.Tls = ClientTlsMode.None;

        using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(NextHopAddress.Parse("[::1]:" + hop.Port), null, context.Token);

        Assert.Equal("::1", Assert.Single(hop.Events("connect")).GetProperty("peer")[0].GetString());
    }

    [Fact]
    public async Task Connect_HostName_ResolvedAndConnected()
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        context.Options.Tls = ClientTlsMode.None;

        using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(NextHopAddress.Parse("localhost:" + hop.Port), null, context.Token);

        Assert.Single(hop.Events("connect"));
    }

    [Fact]
    public async Task Connect_UnresolvableHostName_FailsAtConnectTransient()
    {
        using var context = new ForwardingTestContext();

        var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() =>
            new NextHopConnector(context.Options).ConnectAsync(NextHopAddress.Parse("no-such-host.invalid:25"), null, context.Token));

        Assert.Equal((ConnectionStep.Connect, true), (error.Step, error.IsTransient));
        Assert.Contains("no-such-host.invalid", error.Message);
    }

    [Fact]
    public async Task Connect_HeloDomainSet_HopSeesItInEhlo()
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        context.Options.Tls = ClientTlsMode.None;
        context.Options.HeloDomain = "relay.example.org";

        using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

        Assert.Equal("relay.example.org", Assert.Single(hop.Events("ehlo")).GetProperty("hostname").GetString());
    }

    [Fact]
    public async Task Connect_SocksProxyThatNeverAnswers_FailsAtSocksAfterConnectTimeout()
    {
        using var context = new ForwardingTestContext();
        using var proxy = new TcpListener(IPAddress.Loopback, 0);
        proxy.Start();
        context.Options.ConnectTimeout = TimeSpan.FromSeconds(1);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() =>
            new NextHopConnector(context.Options).ConnectAsync(NextHopAddress.Parse("smtp.example.net:25@127.0.0.1:" + ((IPEndPoint)proxy.LocalEndpoint).Port), null, context.Token));

        Assert.Equal(ConnectionStep.Socks, error.Step);
        Assert.True(error.IsTransient);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task Connect_ListenerThatNeverGreets_FailsAtGreetingAfterResponseTimeout()
    {
        using var context = new ForwardingTestContext();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        context.Options.Tls = ClientTlsMode.None;
        context.Options.ResponseTimeout = TimeSpan.FromSeconds(1);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() =>
            new NextHopConnector(context.Options).ConnectAsync(NextHopAddress.Parse("127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port), null, context.Token));

        Assert.Equal(ConnectionStep.Greeting, error.Step);
        Assert.True(error.IsTransient);
        Assert.Contains("did not answer within 1 s", error.Message);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task Connect_ListenerWithFullBacklog_FailsAtConnectAfterConnectTimeout()
    {
        using var context = new ForwardingTestContext();
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var endPoint = (IPEndPoint)listener.LocalEndPoint;
        var fillers = new List<Socket>();
        try
        {
            // Linux drops SYNs to a listener whose accept queue is full: fill it until a connect hangs.
            await FillBacklogAsync(endPoint, fillers);
            context.Options.ConnectTimeout = TimeSpan.FromSeconds(1);
            var clock = Stopwatch.StartNew();

            var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() =>
                new NextHopConnector(context.Options).ConnectAsync(NextHopAddress.Parse("127.0.0.1:" + endPoint.Port), null, context.Token));

            Assert.Equal(ConnectionStep.Connect, error.Step);
            Assert.True(error.IsTransient);
            Assert.Contains("connect timeout", error.Message);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(8));
        }
        finally
        {
            fillers.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Connect_NothingListening_FailsAtConnectTransient()
    {
        using var context = new ForwardingTestContext();
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() =>
            new NextHopConnector(context.Options).ConnectAsync(NextHopAddress.Parse("127.0.0.1:" + port), null, context.Token));

        Assert.Equal(ConnectionStep.Connect, error.Step);
        Assert.True(error.IsTransient);
        Assert.Null(error.ReplyCode);
    }

    [Fact]
    public async Task Connect_GreetingRefused_FailsAtGreetingWithTheReplyNotTransient()
    {
        using var context = new ForwardingTestContext();
        context.Options.Tls = ClientTlsMode.None;
        await using var peer = ScriptedPeer.Start("554 5.3.2 not accepting mail");

        var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(peer.Address, null, context.Token));

        Assert.Equal((ConnectionStep.Greeting, (int?)554, false), (error.Step, error.ReplyCode, error.IsTransient));
        Assert.Contains("not accepting mail", error.ReplyText);
    }

    [Fact]
    public async Task Connect_EhloAndHeloRefused_FailsAtEhlo()
    {
        using var context = new ForwardingTestContext();
        context.Options.Tls = ClientTlsMode.None;
        await using var peer = ScriptedPeer.Start("220 scripted.test ESMTP", "421 4.3.2 try later", "421 4.3.2 try later");

        var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(peer.Address, null, context.Token));

        Assert.Equal((ConnectionStep.Ehlo, (int?)421, true), (error.Step, error.ReplyCode, error.IsTransient));
    }

    private static async Task FillBacklogAsync(IPEndPoint endPoint, List<Socket> fillers)
    {
        for (int i = 0; i < 16; i++)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            fillers.Add(socket);
            try
            {
                await socket.ConnectAsync(endPoint).WaitAsync(TimeSpan.FromMilliseconds(300));
            }
            catch (TimeoutException)
            {
                return;
            }
        }
        throw new InvalidOperationException("The listener's accept queue never filled: cannot make a connect that hangs.");
    }

    /// <summary>A listener that answers one connection with fixed replies: the greeting, then one reply per line received.</summary>
    private sealed class ScriptedPeer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Task _session;

        private ScriptedPeer(TcpListener listener, Task session)
        {
            _listener = listener;
            _session = session;
        }

        internal NextHopAddress Address => NextHopAddress.Parse("127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port);

        internal static ScriptedPeer Start(params string[] replies)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new ScriptedPeer(listener, AnswerAsync(listener, replies));
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            await _session.WaitAsync(TimeSpan.FromSeconds(15));
        }

        private static async Task AnswerAsync(TcpListener listener, string[] replies)
        {
            using TcpClient client = await listener.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(15));
            using var reader = new System.IO.StreamReader(client.GetStream());
            using var writer = new System.IO.StreamWriter(client.GetStream()) { NewLine = "\r\n", AutoFlush = true };
            foreach (string reply in replies)
            {
                await writer.WriteLineAsync(reply);
                if (await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(15)) == null)
                {
                    return;
                }
            }
        }
    }
}
