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
}
