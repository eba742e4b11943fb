// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCmdlets;

/// <summary>
/// Runs engine work while the pipeline thread carries out what the engine's callbacks posted
/// (results, log lines, progress), since only that thread may write (STYLE.md rule 2.8).
/// </summary>
/// <remarks>
/// A posted write can throw: <c>-ErrorAction Stop</c> turns WriteError into an exception, and a
/// stopped pipeline refuses every write. Then the work is cancelled, the queue is drained without
/// running anything more, and only when the work has finished (claims returned to the spool) is the
/// exception rethrown, so nothing is left half done behind the cmdlet.
/// </remarks>
internal sealed class PipelineThreadQueue : IDisposable
{
    private readonly BlockingCollection<Action> _actions = new BlockingCollection<Action>(new ConcurrentQueue<Action>());
    private ExceptionDispatchInfo _writeFailure;

    /// <summary>Queues an action for the pipeline thread; called on engine threads.</summary>
    /// <remarks>What is posted while no work runs waits for the next <see cref="Run{T}"/> or <see cref="RunPosted"/>.</remarks>
    /// <param name="action">The action.</param>
    internal void Post(Action action) => _actions.Add(action);

    /// <summary>Starts the work and runs posted actions on this (the pipeline) thread until it finishes.</summary>
    /// <typeparam name="T">The work's result type.</typeparam>
    /// <param name="work">The engine call, given a token cancelled by Ctrl+C or by a failed write.</param>
    /// <param name="stopToken">The cmdlet's stop token.</param>
    /// <returns>The work's result.</returns>
    internal T Run<T>(Func<CancellationToken, Task<T>> work, CancellationToken stopToken)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopToken);
        // Not disposed: the task's continuation may still be inside Cancel when the loop below ends.
        var finished = new CancellationTokenSource();
        Task<T> task = work(cancel.Token);
        task.ContinueWith(_ => finished.Cancel(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        while (true)
        {
            Action action;
            try
            {
                action = _actions.Take(finished.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            if (!Invoke(action))
            {
                cancel.Cancel();
            }
        }
        DrainPosted();
        if (_writeFailure != null)
        {
            // The work has finished (claims are back in the spool); its own outcome no longer matters.
            _ = task.Exception;
            _writeFailure.Throw();
        }
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Runs what has been posted so far, without waiting for more.</summary>
    internal void RunPosted()
    {
        DrainPosted();
        _writeFailure?.Throw();
    }

    /// <summary>Releases the queue.</summary>
    public void Dispose() => _actions.Dispose();

    private void DrainPosted()
    {
        while (_actions.TryTake(out Action action))
        {
            Invoke(action);
        }
    }

    private bool Invoke(Action action)
    {
        // After one write failed, nothing more is written: the pipeline is stopping.
        if (_writeFailure != null)
        {
            return false;
        }
        try
        {
            action();
            return true;
        }
        catch (Exception error)
        {
            _writeFailure = ExceptionDispatchInfo.Capture(error);
            return false;
        }
    }
}
