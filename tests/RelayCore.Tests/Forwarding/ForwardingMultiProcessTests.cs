// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Spool;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

/// <summary>Two processes forwarding one spool at once: claims keep them from sending a message twice.</summary>
public sealed class ForwardingMultiProcessTests
{
    private const int MessageCount = 120;

    private readonly ITestOutputHelper _output;

    public ForwardingMultiProcessTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task ForwardAsync_MessagesHandedOverWhileAnotherProcessForwardsTheSpool_EachArrivesExactlyOnce()
    {
        await using SmtpNextHop childHop = await SmtpNextHop.StartAsync(_output);
        await using SmtpNextHop parentHop = await SmtpNextHop.StartAsync(_output);
        if (childHop == null || parentHop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        List<RelayMessage> added = await spool.AddManyAsync(MessageCount);
        using ForwardingChild child = ForwardingChild.Start(spool.Path, childHop.Address);
        bool childStarted = await SmtpNextHop.WaitForAsync(() => childHop.Messages().Count > 0 || child.HasExited, TimeSpan.FromSeconds(30));

        // As a server's queued pass does: the messages as they were committed, not as listed now.
        var results = new ConcurrentQueue<ForwardResult>();
        await using (var agent = new ForwardingAgent(ForwardingSpool.Options(parentHop.Address)))
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await agent.ForwardAsync(spool.Spool, added, results.Enqueue, deadline.Token);
        }
        bool childEnded = await SmtpNextHop.WaitForAsync(() => child.HasExited, TimeSpan.FromSeconds(60));
        _output.WriteLine("child sent " + childHop.Messages().Count + ", this process " + parentHop.Messages().Count + "; child: " + await child.OutputAsync());

        Assert.True(childStarted && childEnded, "the child forwarder never started or never ended");
        Assert.All(results, result => Assert.Equal(ForwardOutcome.Sent, result.Outcome));
        Assert.Equal(ForwardingSpool.ManyContents(MessageCount), ForwardingSpool.Delivered(childHop, parentHop));
        Assert.Equal(parentHop.Messages().Count, results.Count);
        Assert.Equal(0, spool.FileCount);
    }
}
