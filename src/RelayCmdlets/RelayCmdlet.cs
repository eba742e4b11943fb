// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Management.Automation;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCmdlets;

/// <summary>The base of every Relay cmdlet: Ctrl+C cancels a token that every engine call receives.</summary>
public abstract class RelayCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stop = new CancellationTokenSource();

    /// <summary>Cancelled when the user presses Ctrl+C or the pipeline is stopped.</summary>
    protected CancellationToken StopToken => _stop.Token;

    /// <summary>Cancels <see cref="StopToken"/>.</summary>
    protected override void StopProcessing() => _stop.Cancel();

    /// <summary>Runs engine work to completion on the pipeline thread.</summary>
    /// <remarks>The solution's one wait on a Task: cmdlets are synchronous, RelayCore is not.</remarks>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="work">The engine call, given the stop token.</param>
    /// <returns>The engine call's result.</returns>
    protected T Wait<T>(Func<CancellationToken, Task<T>> work) => work(StopToken).GetAwaiter().GetResult();

    /// <summary>
    /// Runs per-item work, writing an error record and going on when it throws an expected
    /// exception (see <see cref="ErrorMapping"/>); Ctrl+C ends it quietly.
    /// </summary>
    /// <param name="target">The object the work is about, named in the error record.</param>
    /// <param name="work">The work.</param>
    /// <returns>True when the work completed.</returns>
    protected bool TryInvoke(object target, Action work)
    {
        try
        {
            work();
            return true;
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            return false;
        }
        catch (Exception error) when (ErrorMapping.TryMap(error, target) is ErrorRecord record)
        {
            WriteError(record);
            return false;
        }
    }

    /// <summary>Stops the cmdlet with a terminating error for an expected exception; rethrows others.</summary>
    /// <param name="error">The exception.</param>
    /// <param name="target">The object that failed.</param>
    protected void ThrowTerminating(Exception error, object target)
    {
        ErrorRecord record = ErrorMapping.TryMap(error, target);
        if (record == null)
        {
            ExceptionDispatchInfo.Capture(error).Throw();
        }
        ThrowTerminatingError(record);
    }

    /// <summary>Releases the stop token; runs even after Ctrl+C, which skips EndProcessing.</summary>
    public void Dispose()
    {
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
