// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Linq;
using System.Threading;
using RelayCore.Hosting;
using Xunit;

namespace RelayCore.Tests.Hosting;

public sealed class ServerCountersTests
{
    [Fact]
    public void TryOpenConnection_ManyThreadsAtTheLimit_AdmitsExactlyTheLimit()
    {
        var counters = new ServerCounters();
        int admitted = 0;
        using var start = new Barrier(8);

        Thread[] threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            int mine = Enumerable.Range(0, 1000).Count(_ => counters.TryOpenConnection(100));
            Interlocked.Add(ref admitted, mine);
        })).ToArray();
        Array.ForEach(threads, thread => thread.Start());
        Array.ForEach(threads, thread => Assert.True(thread.Join(10000), "a counting thread did not finish in 10 s"));

        Assert.Equal(100, admitted);
        Assert.Equal(100, counters.Snapshot().ConnectionsActive);
    }

    [Fact]
    public void TryOpenConnection_AfterAClose_AdmitsOneMore()
    {
        var counters = new ServerCounters();
        Assert.True(counters.TryOpenConnection(1));
        Assert.False(counters.TryOpenConnection(1));

        counters.ConnectionClosed();

        Assert.True(counters.TryOpenConnection(1));
        Assert.Equal(2, counters.Snapshot().ConnectionsTotal);
    }
}
