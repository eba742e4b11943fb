// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Threading.Tasks;
using MailKit.Net.Smtp;
using RelayCore.Forwarding;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

public sealed class NextHopConnectorTests
{
    private readonly ITestOutputHelper _output;

    public NextHopConnectorTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Connect_PlainAiosmtpdHop_GreetsAndKnowsEhloExtensions()
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory, "--mechanisms", "");
        context.Options.Tls = ClientTlsMode.None;
        var connector = new NextHopConnector(context.Options);

        using RelaySmtpClient client = await connector.ConnectAsync(hop.Address, null, context.Token);

        Assert.True(client.IsConnected);
        Assert.True((client.Capabilities & SmtpCapabilities.EightBitMime) != 0, context.Log);
        Assert.Null(client.AuthenticatedAs);
        Assert.Single(hop.Events("connect"));
    }
}
