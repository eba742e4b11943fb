// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Forwarding;

/// <summary>The dedicated threads that delete sent messages while their connections go on.</summary>
public sealed class DeferredSettlementTests
{
    [Fact]
    public async Task DrainAsync_MoreQueuedThanTheSlots_ReturnsOnlyAfterEveryOneRanAndWasReported()
    {
        var settlement = new DeferredSettlement();
        int ran = 0, reported = 0;
        int count = 3 * DeferredSettlement.MaxPending;

        for (int i = 0; i < count; i++)
        {
            await settlement.EnqueueAsync(() => Interlocked.Increment(ref ran), () => reported++).WaitAsync(TestServer.Deadline);
        }
        Exception error = await settlement.DrainAsync().WaitAsync(TestServer.Deadline);

        Assert.Null(error);
        Assert.Equal(count, Volatile.Read(ref ran));
        Assert.Equal(count, Volatile.Read(ref reported));
    }

    [Fact]
    public async Task EnqueueAsync_FirstWorkFinishesLast_ReportsStillComeInQueuedOrder()
    {
        var settlement = new DeferredSettlement();
        using var first = new ManualResetEventSlim();
        var reports = new List<int>();

        await settlement.EnqueueAsync(() => first.Wait(TestServer.Deadline), () => reports.Add(1)).WaitAsync(TestServer.Deadline);
        await settlement.EnqueueAsync(() => { }, () => reports.Add(2)).WaitAsync(TestServer.Deadline);
        await settlement.EnqueueAsync(null, () => reports.Add(3)).WaitAsync(TestServer.Deadline);
        bool reportedEarly = reports.Count > 0;
        first.Set();
        await settlement.DrainAsync().WaitAsync(TestServer.Deadline);

        Assert.False(reportedEarly);
        Assert.Equal(new[] { 1, 2, 3 }, reports);
    }

    [Fact]
    public async Task DrainAsync_ASettlementThrew_ReturnsTheFirstErrorAndTheOthersStillRanAndWereReported()
    {
        var settlement = new DeferredSettlement();
        var reported = new ConcurrentQueue<string>();

        await settlement.EnqueueAsync(() => throw new InvalidOperationException("first"), () => reported.Enqueue("a")).WaitAsync(TestServer.Deadline);
        await settlement.EnqueueAsync(() => { }, () => reported.Enqueue("b")).WaitAsync(TestServer.Deadline);
        Exception error = await settlement.DrainAsync().WaitAsync(TestServer.Deadline);

        Assert.Equal("first", Assert.IsType<InvalidOperationException>(error).Message);
        Assert.Equal(new[] { "a", "b" }, reported);
    }

    [Fact]
    public async Task EnqueueAsync_AllSlotsTaken_WaitsUntilOneFrees()
    {
        var settlement = new DeferredSettlement();
        using var hold = new ManualResetEventSlim();
        for (int i = 0; i < DeferredSettlement.MaxPending; i++)
        {
            await settlement.EnqueueAsync(() => hold.Wait(TestServer.Deadline), () => { }).WaitAsync(TestServer.Deadline);
        }

        Task extra = settlement.EnqueueAsync(() => { }, () => { });
        bool waitedWhileFull = !extra.IsCompleted;
        hold.Set();
        await extra.WaitAsync(TestServer.Deadline);
        await settlement.DrainAsync().WaitAsync(TestServer.Deadline);

        Assert.True(waitedWhileFull);
    }

    [Fact]
    public async Task EnqueueAsync_SlowSettlements_RunInParallel()
    {
        var settlement = new DeferredSettlement();
        var gate = new object();
        int running = 0, most = 0;
        using var together = new CountdownEvent(2);

        foreach (int _ in Enumerable.Range(0, 2))
        {
            await settlement.EnqueueAsync(
                () =>
                {
                    lock (gate)
                    {
                        most = Math.Max(most, ++running);
                    }
                    together.Signal();
                    together.Wait(TestServer.Deadline);
                    lock (gate)
                    {
                        running--;
                    }
                },
                () => { }).WaitAsync(TestServer.Deadline);
        }
        await settlement.DrainAsync().WaitAsync(TestServer.Deadline);

        Assert.Equal(2, most);
    }
}
