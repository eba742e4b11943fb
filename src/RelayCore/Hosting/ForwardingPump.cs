// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Spool;

namespace RelayCore.Hosting;

/// <summary>
/// The server's one forwarding worker: passes over every ready message (start, disconnect, poll and
/// manual triggers) and batches of just-stored messages (immediate mode), one call to the forwarder at
/// a time. Triggers coalesce: any number of them during a pass cause exactly one more pass after it.
/// </summary>
/// <remarks>
/// One worker rather than one forwarding call per trigger or per session: calls never overlap, so
/// two passes never race for the same claims or open parallel connections the options did not ask for,
/// and under load the immediate messages of many sessions share connections in one batch.
/// </remarks>
internal sealed class ForwardingPump
{
    // What a requested pass must do, strongest wins: list the ready messages, or recover the spool first.
    private const int NoPass = 0;
    private const int ListingPass = 1;
    private const int RecoveringPass = 2;

    private readonly Forward _forward;
    private readonly Func<IEnumerable<RelayMessage>> _listReady;
    private readonly Action<ForwardResult> _onResult;
    private readonly Action<Exception> _onError;
    private readonly ConcurrentQueue<RelayMessage> _immediate = new ConcurrentQueue<RelayMessage>();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ForwardResult>> _waiting =
        new ConcurrentDictionary<string, TaskCompletionSource<ForwardResult>>(StringComparer.Ordinal);
    private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
    private readonly object _workerLock = new object();
    private Task _worker = Task.CompletedTask;
    private int _requestedPass;
    private int _isWorking;
    private int _isStopping;

    /// <param name="forward">Forwards the given messages (null: recover the spool, then every ready message), reporting each settled message.</param>
    /// <param name="listReady">Lists the ready messages, oldest first, for a pass without recovery.</param>
    /// <param name="onResult">Sees every result first (logging, counters); called on the worker, never concurrently.</param>
    /// <param name="onError">Sees a pass that threw instead of reporting results (bad configuration, a spool gone).</param>
    internal ForwardingPump(Forward forward, Func<IEnumerable<RelayMessage>> listReady, Action<ForwardResult> onResult, Action<Exception> onError)
    {
        _forward = forward;
        _listReady = listReady;
        _onResult = onResult;
        _onError = onError;
    }

    /// <summary>One call to the forwarding agent.</summary>
    internal delegate Task<ForwardingSummary> Forward(IEnumerable<RelayMessage> messages, Action<ForwardResult> onResult, CancellationToken cancellationToken);

    /// <summary>Passes over the whole spool finished (not immediate batches).</summary>
    internal event Action PassCompleted;

    /// <summary>Asks for a pass over every ready message; if one is running, exactly one more follows it.</summary>
    /// <param name="recover">
    /// Whether the pass first returns abandoned claims to ready (<see cref="SpoolDirectory.Recover()"/>): for
    /// start, poll and manual passes, not for the frequent ones after each disconnect, which need only what is ready.
    /// </param>
    internal void RequestPass(bool recover)
    {
        if (Volatile.Read(ref _isStopping) != 0)
        {
            return;
        }
        int wanted = recover ? RecoveringPass : ListingPass;
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
                    await RunAsync(pass == RecoveringPass ? null : _listReady()).ConfigureAwait(false);
                    PassCompleted?.Invoke();
                }
                await RunImmediateAsync().ConfigureAwait(false);
            }
            Volatile.Write(ref _isWorking, 0);
            // Work queued between the last look and the flag going down would otherwise wait for the next trigger.
        }
        while (HasWork && !_cancel.IsCancellationRequested && Interlocked.CompareExchange(ref _isWorking, 1, 0) == 0);
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
        await RunAsync(batch).ConfigureAwait(false);
        foreach (RelayMessage message in batch)
        {
            // No result: another process claimed it first, so it is in that forwarder's care.
            if (_waiting.TryRemove(message.Id, out TaskCompletionSource<ForwardResult> outcome))
            {
                outcome.TrySetResult(null);
            }
        }
    }

    private async Task RunAsync(IEnumerable<RelayMessage> messages)
    {
        try
        {
            await _forward(messages, Settle, _cancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_cancel.IsCancellationRequested)
        {
            // Stopping: the agent has returned its unsent claims to ready.
        }
        catch (Exception error) when (!(error is OutOfMemoryException))
        {
            // The top of a background task: nobody else would see it, and the next trigger should still run.
            _onError(error);
        }
    }

    private void Settle(ForwardResult result)
    {
        _onResult(result);
        if (_waiting.TryRemove(result.Id, out TaskCompletionSource<ForwardResult> outcome))
        {
            outcome.TrySetResult(result);
        }
    }
}
