// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.Forwarding;

/// <summary>
/// The blocking spool work that settles one run's sent messages (deleting their content, letting go of their
/// claims), done on a few dedicated threads that the process shares, so that a connection goes on to its next
/// message meanwhile.
/// </summary>
/// <remarks>
/// <para>
/// Freeing a file waits on the disk where the file system discards freed blocks synchronously (ext4 mounted
/// with <c>discard</c> and no journal, as on the benchmark machines): more than a millisecond per file one at a
/// time, about a tenth of that with many in flight. On the connection's own path those two waits per message
/// (the content's delete, the envelope's release) held each connection near 400 messages per second. Dedicated
/// threads, because a thread-pool thread blocked in a system call is one the sessions and connections cannot use.
/// </para>
/// <para>
/// The envelope of a sent message is deleted before its settlement is queued (see
/// <see cref="RelayCore.Spool.ClaimedMessage.CompleteLater"/>), so a crash while settlements wait never sends a
/// message twice; it leaves at most orphaned content files, which recovery removes. At most
/// <see cref="MaxPending"/> settlements wait per run.
/// </para>
/// </remarks>
internal sealed class DeferredSettlement
{
    /// <summary>Settlements of one run waiting or running at most; the run's connections wait for a slot beyond it.</summary>
    internal const int MaxPending = 64;

    // A plain monitor queue: BlockingCollection's semaphore spins (sched_yield) before it sleeps, on every thread, per item.
    // It also guards the two counts: threads alive, and threads waiting for work.
    private static readonly Queue<Action> s_work = new Queue<Action>();
    private static readonly TimeSpan s_idleExit = TimeSpan.FromSeconds(30);
    private static int s_threads;
    private static int s_idle;

    private readonly SemaphoreSlim _slots = new SemaphoreSlim(MaxPending, MaxPending);

    // The pending settlements in the order they were queued: each one's report waits for those before it.
    private readonly Queue<Pending> _inOrder = new Queue<Pending>();
    private Exception _error;

    /// <summary>The number of settling threads: enough deletes in flight to hide the disk's wait, few enough to stay idle cheaply.</summary>
    internal static int ThreadCount { get; } = Math.Max(4, Math.Min(16, 4 * Environment.ProcessorCount));

    /// <summary>
    /// Queues one settlement, first waiting for a slot while <see cref="MaxPending"/> are pending. Its report runs
    /// after its work and after the reports of every settlement queued before it, never two at once.
    /// </summary>
    /// <param name="work">The blocking spool work, run on a settling thread; null for none (the report only keeps its place).</param>
    /// <param name="report">Reports the settled message.</param>
    /// <remarks>An exception either throws is kept for <see cref="DrainAsync"/>.</remarks>
    internal async Task EnqueueAsync(Action work, Action report)
    {
        // Not cancellable: the message was sent, so its settlement must happen; slots free as the threads finish.
        await _slots.WaitAsync().ConfigureAwait(false);
        var pending = new Pending(report);
        lock (_inOrder)
        {
            _inOrder.Enqueue(pending);
        }
        if (work == null)
        {
            Finish(pending);
            return;
        }
        bool isNewThreadNeeded = false;
        lock (s_work)
        {
            s_work.Enqueue(() => Run(work, pending));
            if (s_idle > 0)
            {
                Monitor.Pulse(s_work);
            }
            else if (s_threads < ThreadCount)
            {
                s_threads++;
                isNewThreadNeeded = true;
            }
        }
        if (isNewThreadNeeded)
        {
            // Background: they hold no state of their own, and a process must be able to exit past them.
            new Thread(Settle) { IsBackground = true, Name = "Relay settle" }.Start();
        }
    }

    /// <summary>Waits until every queued settlement has run and been reported.</summary>
    /// <returns>The first exception a settlement or report threw, or null.</returns>
    internal async Task<Exception> DrainAsync()
    {
        // Holding every slot means none is pending; then they go back for nobody.
        for (int i = 0; i < MaxPending; i++)
        {
            await _slots.WaitAsync().ConfigureAwait(false);
        }
        _slots.Release(MaxPending);
        return Volatile.Read(ref _error);
    }

    /// <summary>A settling thread: runs queued work until none came for a while (so an idle process keeps no threads).</summary>
    private static void Settle()
    {
        while (true)
        {
            Action work;
            lock (s_work)
            {
                while (s_work.Count == 0)
                {
                    s_idle++;
                    bool isPulsed = Monitor.Wait(s_work, s_idleExit);
                    s_idle--;
                    if (!isPulsed && s_work.Count == 0)
                    {
                        // Counted down under the lock: work queued from now on starts a thread of its own.
                        s_threads--;
                        return;
                    }
                }
                work = s_work.Dequeue();
            }
            work();
        }
    }

    private void Run(Action work, Pending pending)
    {
        try
        {
            work();
        }
        catch (Exception error)
        {
            // Never let it end a settling thread: the run reports it when it drains.
            Interlocked.CompareExchange(ref _error, error, null);
        }
        finally
        {
            Finish(pending);
        }
    }

    /// <summary>Marks a settlement done and reports, in order, every done one no earlier one holds back.</summary>
    private void Finish(Pending pending)
    {
        // Reported under the lock, so that two threads finishing at once cannot swap two reports.
        lock (_inOrder)
        {
            pending.IsDone = true;
            while (_inOrder.Count > 0 && _inOrder.Peek().IsDone)
            {
                Action report = _inOrder.Dequeue().Report;
                try
                {
                    report();
                }
                catch (Exception error)
                {
                    Interlocked.CompareExchange(ref _error, error, null);
                }
                finally
                {
                    _slots.Release();
                }
            }
        }
    }

    private sealed class Pending
    {
        internal Pending(Action report) => Report = report;

        internal Action Report { get; }

        internal bool IsDone { get; set; }
    }
}
