// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Server;

/// <summary>Start-RelayServer -ForwardTo: the forwarding triggers and client parameters, against a real next hop (aiosmtpd).</summary>
[Collection(nameof(ServerLifecycleTests))]
public sealed class StartRelayServerForwardingTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);
    private readonly ServerRunspace _shell = new ServerRunspace();
    private readonly ITestOutputHelper _output;
    private readonly string _name = ServerRunspace.UniqueName();

    public StartRelayServerForwardingTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public async Task ForwardOnDisconnect_SwaksSubmits_TheMessageReachesTheNextHopAndIsCounted()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null || !Swaks.IsAvailable(_output))
        {
            return;
        }
        int port = StartServer(hop, "-ForwardOnDisconnect");

        Swaks.Submit(port, "alice@example.com", "bob@example.net");

        Assert.True(await SmtpNextHop.WaitForAsync(() => hop.Messages().Count == 1, s_deadline), "the message never reached the next hop");
        Assert.Equal(new[] { "bob@example.net" }, hop.Messages().Single().RcptTos);
        Assert.True(await SmtpNextHop.WaitForAsync(() => Equals(Scalar($"(Get-RelayServer -Name {_name}).Forwarded"), 1L), s_deadline), "Get-RelayServer never counted the message forwarded");
        Assert.Empty(Directory.GetFiles(_shell.SpoolPath));
    }

    [Fact]
    public async Task ForwardOnStart_SpoolHoldsAMessage_ForwardsItOnceStarted()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }
        _shell.Invoke("$null = Submit-RelayMessage -SpoolPath ./spool -From alice@example.com -To carol@example.net -Subject waiting -Body waiting");

        StartServer(hop, "-ForwardOnStart");

        Assert.True(await SmtpNextHop.WaitForAsync(() => hop.Messages().Count == 1, s_deadline), "the stored message was not forwarded at start");
        Assert.Equal(new[] { "carol@example.net" }, hop.Messages().Single().RcptTos);
    }

    [Fact]
    public async Task Immediate_SwaksSubmits_TheNextHopHasTheMessageBeforeTheClientGetsItsReply()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null || !Swaks.IsAvailable(_output))
        {
            return;
        }
        int port = StartServer(hop, "-Immediate");

        Swaks.Submit(port, "alice@example.com", "dave@example.net");

        Assert.Equal(new[] { "dave@example.net" }, hop.Messages().Single().RcptTos);
    }

    [Fact]
    public void ForwardTo_WithoutATrigger_WarnsThatNothingForwardsByItself()
    {
        using var shell = _shell.CreatePowerShell();
        shell.AddScript($"Start-RelayServer -Name {_name} -SpoolPath ./spool -ListenAddress 127.0.0.1 -Port 0 -ForwardTo 127.0.0.1:25");

        shell.Invoke();

        Assert.False(shell.HadErrors, string.Join(" | ", shell.Streams.Error));
        Assert.Contains("TriggerForwarding", Assert.Single(shell.Streams.Warning).Message);
    }

    [Theory]
    [InlineData("-ForwardOnDisconnect", "ForwardOnDisconnect")]
    [InlineData("-PollInterval 00:01:00", "PollInterval")]
    [InlineData("-ClientTls StartTls", "ClientTls")]
    [InlineData("-PopBeforeSmtp", "PopBeforeSmtp")]
    public void ForwardingParameter_WithoutForwardTo_IsInvalidForwardingParameters(string arguments, string parameter)
    {
        var error = _shell.InvokeExpectingError($"Start-RelayServer -Name {_name} -SpoolPath ./spool -Port 0 {arguments}");

        Assert.Equal("InvalidForwardingParameters,RelayCmdlets.StartRelayServerCommand", error.FullyQualifiedErrorId);
        Assert.Equal(parameter, error.TargetObject);
        Assert.Empty(_shell.Invoke($"Get-RelayServer | Where-Object Name -eq '{_name}'"));
    }

    public void Dispose() => _shell.Dispose();

    private int StartServer(SmtpNextHop hop, string triggers) =>
        (int)Scalar($"$server = Start-RelayServer -Name {_name} -SpoolPath ./spool -ListenAddress 127.0.0.1 -Port 0 " +
            "-ForwardTo 127.0.0.1:" + hop.Port.ToString(CultureInfo.InvariantCulture) + " " + triggers + "; $server.Endpoints[0].Port");

    private object Scalar(string script) => Assert.Single(_shell.Invoke(script)).BaseObject;
}
