// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
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
    public async Task DrainAsync_MoreQueuedThanTheSlots_ReturnsOnlyAfterEveryOneRan()
    {
        var settlement = new DeferredSettlement();
        int ran = 0;
        int count = 3 * DeferredSettlement.MaxPending;

        for (int i = 0; i < count; i++)
        {
            await settlement.EnqueueAsync(() => Interlocked.Increment(ref ran)).WaitAsync(TestServer.Deadline);
        }
        Exception error = await settlement.DrainAsync().WaitAsync(TestServer.Deadline);

        Assert.Null(error);
        Assert.Equal(count, Volatile.Read(ref ran));
    }

    [Fact]
    public async Task DrainAsync_ASettlementThrew_ReturnsTheFirstErrorAndTheOthersStillRan()
    {
        var settlement = new DeferredSettlement();
        int ran = 0;

        await settlement.EnqueueAsync(() => throw new InvalidOperationException("first")).WaitAsync(TestServer.Deadline);
        await settlement.EnqueueAsync(() => Interlocked.Increment(ref ran)).WaitAsync(TestServer.Deadline);
        Exception error = await settlement.DrainAsync().WaitAsync(TestServer.Deadline);

        Assert.Equal("first", Assert.IsType<InvalidOperationException>(error).Message);
        Assert.Equal(1, Volatile.Read(ref ran));
    }

    [Fact]
    public async Task EnqueueAsync_AllSlotsTaken_WaitsUntilOneFrees()
    {
        var settlement = new DeferredSettlement();
        using var hold = new ManualResetEventSlim();
        for (int i = 0; i < DeferredSettlement.MaxPending; i++)
        {
            await settlement.EnqueueAsync(() => hold.Wait(TestServer.Deadline)).WaitAsync(TestServer.Deadline);
        }

        Task extra = settlement.EnqueueAsync(() => { });
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
            await settlement.EnqueueAsync(() =>
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
            }).WaitAsync(TestServer.Deadline);
        }
        await settlement.DrainAsync().WaitAsync(TestServer.Deadline);

        Assert.Equal(2, most);
    }
}
