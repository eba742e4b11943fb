// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Management.Automation;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Hosting;
using RelayCore.Spool;

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

    /// <summary>
    /// Resolves a <c>-SpoolPath</c> argument against the current location (any provider path
    /// PowerShell accepts); the platform's <see cref="SpoolDirectory.DefaultPath"/> when omitted.
    /// </summary>
    /// <param name="spoolPath">The argument, or null.</param>
    /// <returns>The file-system path.</returns>
    protected string ResolveSpoolPath(string spoolPath) =>
        SessionState.Path.GetUnresolvedProviderPathFromPSPath(string.IsNullOrEmpty(spoolPath) ? SpoolDirectory.DefaultPath : spoolPath);

    /// <summary>Opens the spool a <c>-SpoolPath</c> argument names; a terminating error when it cannot.</summary>
    /// <param name="spoolPath">The argument, or null for the default spool.</param>
    /// <param name="create">Whether to create a missing directory.</param>
    /// <returns>The spool.</returns>
    protected SpoolDirectory OpenSpool(string spoolPath, bool create)
    {
        string path = ResolveSpoolPath(spoolPath);
        try
        {
            SpoolDirectory spool = SpoolDirectory.Open(path, create);
            WriteVerbose("Spool: " + spool.Path);
            return spool;
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            ThrowTerminating(error, path);
            throw;
        }
    }

    /// <summary>
    /// The messages a cmdlet taking <c>-InputObject</c> or <c>-Id</c> and <c>-SpoolPath</c> works
    /// on: the objects as given, or each id read from the spool (an id not found is a
    /// non-terminating <c>RelayMessageNotFound</c> error).
    /// </summary>
    /// <param name="inputObject">The messages given, or null.</param>
    /// <param name="id">The ids given, when no messages were.</param>
    /// <param name="spoolPath">The spool the ids are in; the default spool when null.</param>
    /// <returns>The messages, lazily.</returns>
    protected IEnumerable<RelayMessage> ResolveMessages(RelayMessage[] inputObject, string[] id, string spoolPath)
    {
        if (inputObject != null)
        {
            foreach (RelayMessage message in inputObject)
            {
                yield return message;
            }
            yield break;
        }
        SpoolDirectory spool = OpenSpool(spoolPath, create: false);
        foreach (string messageId in id)
        {
            RelayMessage message = null;
            if (TryInvoke(messageId, () => message = spool.Get(messageId)))
            {
                yield return message;
            }
        }
    }

    /// <summary>Whether the caller gave a parameter (as opposed to its default applying).</summary>
    /// <param name="parameterName">The parameter's name.</param>
    /// <returns>True when bound.</returns>
    protected bool IsBound(string parameterName) => MyInvocation.BoundParameters.ContainsKey(parameterName);

    /// <summary>Resolves a file argument against the current location; a terminating error when the file does not exist.</summary>
    /// <param name="path">The argument, or null.</param>
    /// <param name="notFound">Makes the error record for a missing file from its full path.</param>
    /// <returns>The full path, or null when <paramref name="path"/> is null.</returns>
    protected string ResolveExistingFile(string path, Func<string, ErrorRecord> notFound)
    {
        if (path == null)
        {
            return null;
        }
        string fullPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
        if (!File.Exists(fullPath))
        {
            ThrowTerminatingError(notFound(fullPath));
        }
        return fullPath;
    }

    /// <summary>The most detailed engine log level this invocation shows, from -Debug, -Verbose or the preference variables.</summary>
    /// <remarks>The engine skips formatting lines nobody will see (Debug is every command and reply).</remarks>
    /// <returns>The level.</returns>
    protected RelayLogLevel LeastLevelShown()
    {
        if (IsPreferenceOn("Debug", "DebugPreference"))
        {
            return RelayLogLevel.Debug;
        }
        return IsPreferenceOn("Verbose", "VerbosePreference") ? RelayLogLevel.Information : RelayLogLevel.Warning;
    }

    /// <summary>Writes one engine log line to the stream of its level: debug, verbose, warning, or a non-terminating error.</summary>
    /// <param name="level">The line's level.</param>
    /// <param name="line">The text.</param>
    /// <param name="errorId">The ErrorId of an Error-level line.</param>
    /// <param name="target">The target object of an Error-level line.</param>
    protected void WriteLogLine(RelayLogLevel level, string line, string errorId, object target)
    {
        switch (level)
        {
            case RelayLogLevel.Debug:
                WriteDebug(line);
                break;
            case RelayLogLevel.Information:
                WriteVerbose(line);
                break;
            case RelayLogLevel.Warning:
                WriteWarning(line);
                break;
            default:
                WriteError(new ErrorRecord(new InvalidOperationException(line), errorId, ErrorCategory.NotSpecified, target));
                break;
        }
    }

    private bool IsPreferenceOn(string switchName, string preferenceVariable)
    {
        if (MyInvocation.BoundParameters.TryGetValue(switchName, out object value))
        {
            return ((SwitchParameter)value).IsPresent;
        }
        object preference = GetVariableValue(preferenceVariable);
        return preference is ActionPreference action && action != ActionPreference.SilentlyContinue && action != ActionPreference.Ignore;
    }

    /// <summary>The target text ShouldProcess shows for a message: its id and envelope path.</summary>
    /// <param name="message">The message.</param>
    /// <returns>The text.</returns>
    protected static string DescribeTarget(RelayMessage message) => message.Id + " (" + message.EnvelopePath + ")";

    /// <summary>Releases the stop token; runs even after Ctrl+C, which skips EndProcessing.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what the cmdlet holds.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _stop.Dispose();
        }
    }
}
