// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Spool;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

public sealed class ForwardingCrashTests
{
    private const int MessageCount = 8;
    private const int AcceptedBeforeStall = 3;

    private readonly ITestOutputHelper _output;

    public ForwardingCrashTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Forwarder_KilledMidSend_NextRunSendsEveryMessageExactlyOnce()
    {
        await using SmtpNextHop stalling = await SmtpNextHop.StartAsync(_output, "--stall-data", "--stall-after", AcceptedBeforeStall.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await using SmtpNextHop healthy = await SmtpNextHop.StartAsync(_output);
        if (stalling == null || healthy == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        List<RelayMessage> added = await spool.AddManyAsync(MessageCount);
        using ForwardingChild child = ForwardingChild.Start(spool.Path, stalling.Address);

        bool stalled = await SmtpNextHop.WaitForAsync(() => stalling.Stalls > 0 || child.HasExited, TimeSpan.FromSeconds(30));
        // The sent messages' contents go on the child's settling threads: killed before that, it leaves orphaned
        // content files (for a later recovery), never a message to send again; this test wants an empty spool at the end.
        bool settled = await SmtpNextHop.WaitForAsync(() => spool.FileCount == 2 * (MessageCount - AcceptedBeforeStall) || child.HasExited, TimeSpan.FromSeconds(30));
        (int returnedWhileAlive, int _) = spool.Spool.Recover();
        int busyWhileAlive = spool.InState(RelayMessageState.Busy).Count;
        await child.KillAsync();
        _output.WriteLine("child: " + await child.OutputAsync());
        int busyAfterKill = spool.InState(RelayMessageState.Busy).Count;
        (ForwardingSummary second, List<ForwardResult> _) = await spool.ForwardAsync(ForwardingSpool.Options(healthy.Address));

        Assert.True(stalled && stalling.Stalls > 0, "the child never reached the stalled DATA");
        Assert.True(settled, "the child never settled the messages it sent");
        Assert.Equal(0, returnedWhileAlive);
        Assert.Equal(1, busyWhileAlive);
        Assert.Equal(1, busyAfterKill);
        Assert.Equal(MessageCount - AcceptedBeforeStall, second.Sent);
        Assert.Equal(ForwardingSpool.ManyContents(MessageCount), ForwardingSpool.Delivered(stalling, healthy));
        Assert.Equal(0, spool.FileCount);
        Assert.Equal(MessageCount, added.Count);
    }
}
