// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Spool;

namespace RelayCore.Hosting;

/// <summary>
/// The server's one forwarding worker: passes over every ready message (start, poll and manual triggers),
/// passes over the messages the server just committed (a submitting client's disconnect), and batches of
/// just-stored messages (immediate mode), one call to the forwarder at a time. Triggers coalesce: any
/// number of them during a pass cause exactly one more pass after it.
/// </summary>
/// <remarks>
/// One worker rather than one forwarding call per trigger or per session: calls never overlap, so
/// two passes never race for the same claims or open parallel connections the options did not ask for,
/// and under load the immediate messages of many sessions share connections in one batch.
/// A disconnect's pass takes the committed messages the sessions handed over instead of listing the spool
/// and reading every envelope again, which cost as much CPU per message as storing it. A listing pass
/// replaces a queued one whenever the spool may hold ready mail that no queue does: before the first
/// listing, after a pass deferred a message (it stays ready), after the queue overflowed, and once the
/// last listing is a listing interval old (messages other processes put in the spool).
/// </remarks>
internal sealed class ForwardingPump
{
    /// <summary>Committed messages remembered at most; beyond that the next pass lists the spool instead.</summary>
    internal const int MaxQueued = 10000;

    // What a requested pass must do, strongest wins: forward the queued messages, list the ready
    // messages, or recover the spool first.
    private const int NoPass = 0;
    private const int QueuedPass = 1;
    private const int ListingPass = 2;
    private const int RecoveringPass = 3;

    private readonly Forward _forward;
    private readonly TimeSpan _listingInterval;
    private readonly Action<ForwardResult> _onResult;
    private readonly Action<Exception> _onError;
    private readonly ConcurrentQueue<RelayMessage> _committed = new ConcurrentQueue<RelayMessage>();
    private readonly ConcurrentQueue<RelayMessage> _immediate = new ConcurrentQueue<RelayMessage>();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ForwardResult>> _waiting =
        new ConcurrentDictionary<string, TaskCompletionSource<ForwardResult>>(StringComparer.Ordinal);
    private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
    private readonly Stopwatch _sinceListing = new Stopwatch();
    private readonly object _workerLock = new object();
    private Task _worker = Task.CompletedTask;
    private int _requestedPass;
    private int _committedCount;
    private int _isListingNeeded = 1;
    private int _passDeferred;
    private int _isWorking;
    private int _isStopping;

    /// <param name="forward">Forwards the given messages, or with none every ready message (recovering the spool first when asked), reporting each settled message.</param>
    /// <param name="listingInterval">The longest time a queued pass goes without listing the spool.</param>
    /// <param name="onResult">Sees every result first (logging, counters); called on the worker, never concurrently.</param>
    /// <param name="onError">Sees a pass that threw instead of reporting results (bad configuration, a spool gone).</param>
    internal ForwardingPump(Forward forward, TimeSpan listingInterval, Action<ForwardResult> onResult, Action<Exception> onError)
    {
        _forward = forward;
        _listingInterval = listingInterval;
        _onResult = onResult;
        _onError = onError;
    }

    /// <summary>One call to the forwarding agent: the given messages, or with null every ready message of the spool.</summary>
    internal delegate Task<ForwardingSummary> Forward(IEnumerable<RelayMessage> messages, bool recover, Action<ForwardResult> onResult, CancellationToken cancellationToken);

    /// <summary>Passes (queued or over the whole spool, not immediate batches) finished.</summary>
    internal event Action PassCompleted;

    /// <summary>Asks for a pass over every ready message; if one is running, exactly one more follows it.</summary>
    /// <param name="recover">
    /// Whether the pass first returns abandoned claims to ready (<see cref="SpoolDirectory.Recover()"/>): for
    /// start, poll and manual passes, not for the ones after disconnects, which need only what is ready.
    /// </param>
    internal void RequestPass(bool recover) => Request(recover ? RecoveringPass : ListingPass);

    /// <summary>
    /// Asks for a pass over the messages handed over by <see cref="Enqueue"/>, or over the whole spool when it
    /// may hold ready mail that no queue does; if a pass is running, exactly one more follows it.
    /// </summary>
    internal void RequestQueuedPass() => Request(QueuedPass);

    /// <summary>Hands over just-committed (ready) messages to the next queued pass.</summary>
    /// <remarks>
    /// Only after their commit: a listing that starts later finds them in the spool, so a listing pass drops
    /// the queue it finds. Past <see cref="MaxQueued"/> messages are not kept and the next pass lists the spool.
    /// </remarks>
    /// <param name="messages">The committed messages, oldest first.</param>
    internal void Enqueue(IEnumerable<RelayMessage> messages)
    {
        foreach (RelayMessage message in messages)
        {
            if (Interlocked.Increment(ref _committedCount) > MaxQueued)
            {
                Interlocked.Decrement(ref _committedCount);
                Volatile.Write(ref _isListingNeeded, 1);
                return;
            }
            _committed.Enqueue(message);
        }
    }

    /// <summary>
    /// Registers interest in a message about to be committed, so that a pass settling it before
    /// <see cref="ForwardNowAsync"/> is called still reports its outcome to the session.
    /// </summary>
    /// <returns>The outcome to pass to <see cref="ForwardNowAsync"/>.</returns>
    internal Task<ForwardResult> Expect(string id)
    {
        if (Volatile.Read(ref _isStopping) != 0)
        {
            return Task.FromResult<ForwardResult>(null);
        }
        var outcome = new TaskCompletionSource<ForwardResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = outcome;
        return outcome.Task;
    }

    /// <summary>Drops the interest registered by <see cref="Expect"/> (the commit failed).</summary>
    internal void Forget(string id) => _waiting.TryRemove(id, out _);

    /// <summary>
    /// Forwards one just-committed message as soon as the worker can and waits for its outcome, at most
    /// <paramref name="wait"/>.
    /// </summary>
    /// <returns>
    /// Its result; null when there was none in time (or the pump is stopping, or another process holds the
    /// message): the message then stays in the spool's care, and a later outcome is only logged and counted.
    /// </returns>
    internal async Task<ForwardResult> ForwardNowAsync(RelayMessage message, Task<ForwardResult> expected, TimeSpan wait)
    {
        if (!expected.IsCompleted)
        {
            _immediate.Enqueue(message);
            Kick();
            // Registered after the stop answered every waiter: nobody would answer this one.
            if (_cancel.IsCancellationRequested && _waiting.TryRemove(message.Id, out _))
            {
                return null;
            }
            using (var timer = new CancellationTokenSource())
            {
                Task finished = await Task.WhenAny(expected, Task.Delay(wait, timer.Token)).ConfigureAwait(false);
                timer.Cancel();
                // Whoever removes the waiter owns the outcome: a result racing the deadline is not lost.
                if (finished != expected && _waiting.TryRemove(message.Id, out _))
                {
                    return null;
                }
            }
        }
        return await expected.ConfigureAwait(false);
    }

    /// <summary>Refuses new work; the running pass goes on until <see cref="CancelAsync"/>.</summary>
    internal void BeginStop() => Interlocked.Exchange(ref _isStopping, 1);

    /// <summary>A task that completes when the worker has nothing more to do.</summary>
    internal Task IdleAsync()
    {
        lock (_workerLock)
        {
            return _worker;
        }
    }

    /// <summary>Cancels the running pass (its unsent claims return to ready) and waits for the worker to end.</summary>
    internal async Task CancelAsync()
    {
        BeginStop();
        _cancel.Cancel();
        Task worker;
        do
        {
            // A worker started just before the stop sees the cancellation and ends at once.
            worker = IdleAsync();
            await worker.ConfigureAwait(false);
        }
        while (worker != IdleAsync());
        foreach (string id in _waiting.Keys)
        {
            if (_waiting.TryRemove(id, out TaskCompletionSource<ForwardResult> outcome))
            {
                outcome.TrySetResult(null);
            }
        }
    }

    private bool HasWork => Volatile.Read(ref _requestedPass) != NoPass || !_immediate.IsEmpty;

    private void Request(int wanted)
    {
        if (Volatile.Read(ref _isStopping) != 0)
        {
            return;
        }
        int requested = Volatile.Read(ref _requestedPass);
        while (requested < wanted)
        {
            int seen = Interlocked.CompareExchange(ref _requestedPass, wanted, requested);
            if (seen == requested)
            {
                break;
            }
            requested = seen;
        }
        Kick();
    }

    private void Kick()
    {
        if (Interlocked.CompareExchange(ref _isWorking, 1, 0) == 0)
        {
            lock (_workerLock)
            {
                _worker = Task.Run(WorkAsync);
            }
        }
    }

    private async Task WorkAsync()
    {
        do
        {
            while (HasWork && !_cancel.IsCancellationRequested)
            {
                int pass = Interlocked.Exchange(ref _requestedPass, NoPass);
                if (pass != NoPass)
                {
                    await RunPassAsync(pass).ConfigureAwait(false);
                }
                await RunImmediateAsync().ConfigureAwait(false);
            }
            Volatile.Write(ref _isWorking, 0);
            // Work queued between the last look and the flag going down would otherwise wait for the next trigger.
        }
        while (HasWork && !_cancel.IsCancellationRequested && Interlocked.CompareExchange(ref _isWorking, 1, 0) == 0);
    }

    private async Task RunPassAsync(int pass)
    {
        if (pass == QueuedPass && (Volatile.Read(ref _isListingNeeded) != 0 || !_sinceListing.IsRunning || _sinceListing.Elapsed >= _listingInterval))
        {
            pass = ListingPass;
        }
        if (pass != QueuedPass)
        {
            // Cleared before the listing starts: whatever sets it meanwhile is for the next pass.
            Volatile.Write(ref _isListingNeeded, 0);
        }
        // Every queued message was queued after its commit, so before a listing that starts now.
        List<RelayMessage> queued = TakeCommitted();
        _passDeferred = 0;
        bool isFinished;
        if (pass == QueuedPass)
        {
            if (queued.Count == 0)
            {
                // A listing took them.
                return;
            }
            isFinished = await RunAsync(queued, recover: false).ConfigureAwait(false);
        }
        else
        {
            _sinceListing.Restart();
            isFinished = await RunAsync(null, pass == RecoveringPass).ConfigureAwait(false);
        }
        if (_passDeferred > 0 || !isFinished)
        {
            // Left ready in the spool, where only a listing finds them again.
            Volatile.Write(ref _isListingNeeded, 1);
        }
        PassCompleted?.Invoke();
    }

    private List<RelayMessage> TakeCommitted()
    {
        var taken = new List<RelayMessage>();
        while (_committed.TryDequeue(out RelayMessage message))
        {
            Interlocked.Decrement(ref _committedCount);
            taken.Add(message);
        }
        return taken;
    }

    private async Task RunImmediateAsync()
    {
        // Every one, even when a pass settled it already (its claim then fails, as it does when its session is
        // withdrawing it) or its session stopped waiting (it was told 250 queued: forwarding it now is right).
        var batch = new List<RelayMessage>();
        while (_immediate.TryDequeue(out RelayMessage message))
        {
            batch.Add(message);
        }
        if (batch.Count == 0)
        {
            return;
        }
        await RunAsync(batch, recover: false).ConfigureAwait(false);
        foreach (RelayMessage message in batch)
        {
            // No result: another process claimed it first, so it is in that forwarder's care.
            if (_waiting.TryRemove(message.Id, out TaskCompletionSource<ForwardResult> outcome))
            {
                outcome.TrySetResult(null);
            }
        }
    }

    /// <summary>One forwarding call; false when it threw or was cancelled instead of settling everything.</summary>
    private async Task<bool> RunAsync(IEnumerable<RelayMessage> messages, bool recover)
    {
        try
        {
            await _forward(messages, recover, Settle, _cancel.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            // Stopping: the agent has returned its unsent claims to ready.
            return false;
        }
        catch (Exception error) when (!(error is OutOfMemoryException))
        {
            // The top of a background task: nobody else would see it, and the next trigger should still run.
            _onError(error);
            return false;
        }
    }

    private void Settle(ForwardResult result)
    {
        if (result.Outcome == ForwardOutcome.Deferred)
        {
            _passDeferred++;
        }
        _onResult(result);
        if (_waiting.TryRemove(result.Id, out TaskCompletionSource<ForwardResult> outcome))
        {
            outcome.TrySetResult(result);
        }
    }
}
