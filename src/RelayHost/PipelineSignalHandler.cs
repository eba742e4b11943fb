// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Threading;

namespace RelayHost;

/// <summary>Turns SIGINT (Ctrl+C), SIGTERM and SIGHUP into a stop of the running pipeline; a second signal ends the process.</summary>
/// <remarks>
/// Stopping the pipeline runs each cmdlet's StopProcessing, so a server started with -Wait closes its listeners and
/// finishes the messages in flight before relay exits. PosixSignalRegistration covers Windows too (SIGINT is Ctrl+C,
/// SIGTERM a shutdown or logoff, SIGHUP a closed console window), so Console.CancelKeyPress is not needed as well.
/// SIGHUP matters for a daemon started from a terminal that then goes away (a dropped ssh session).
/// </remarks>
internal sealed class PipelineSignalHandler : IDisposable
{
    /// <summary>The shell convention for a process ended by signal N: 128 + N.</summary>
    public const int InterruptExitCode = 130;

    /// <summary>128 + SIGTERM (15).</summary>
    public const int TerminateExitCode = 143;

    /// <summary>128 + SIGHUP (1).</summary>
    public const int HangUpExitCode = 129;

    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    private readonly PosixSignalRegistration _hangUp;
    private readonly object _lock = new object();
    private PowerShell _running;
    private int _signalCount;
    private int _exitCode;
    private bool _isStopRequested;

    /// <summary>Registers for SIGINT, SIGTERM and SIGHUP.</summary>
    public PipelineSignalHandler()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => OnSignal(context, InterruptExitCode));
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => OnSignal(context, TerminateExitCode));
        _hangUp = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context => OnSignal(context, HangUpExitCode));
    }

    /// <summary>Whether a signal has arrived.</summary>
    public bool IsSignalled => ExitCode != 0;

    /// <summary>The exit code for the first signal received (130, 143 or 129), or 0 when none was.</summary>
    public int ExitCode
    {
        get
        {
            lock (_lock)
            {
                return _exitCode;
            }
        }
    }

    /// <summary>Makes <paramref name="shell"/> the pipeline a signal stops; stops it at once if a signal came first.</summary>
    /// <param name="shell">The pipeline about to be invoked.</param>
    public void Attach(PowerShell shell)
    {
        lock (_lock)
        {
            _running = shell;
            _isStopRequested = false;
            StopRunningIfSignalled();
        }
    }

    /// <summary>Forgets the pipeline, before it is disposed.</summary>
    public void Detach()
    {
        lock (_lock)
        {
            _running = null;
        }
    }

    /// <summary>Unregisters the signal handlers.</summary>
    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _hangUp.Dispose();
    }

    private void OnSignal(PosixSignalContext context, int exitCode)
    {
        if (Interlocked.Increment(ref _signalCount) > 1)
        {
            // The second signal: the user has stopped waiting for a clean shutdown, so let the default action end the process.
            context.Cancel = false;
            return;
        }

        context.Cancel = true;
        lock (_lock)
        {
            _exitCode = exitCode;
            StopRunningIfSignalled();
        }
    }

    /// <summary>Called under the lock: stops the attached pipeline once.</summary>
    private void StopRunningIfSignalled()
    {
        if (_exitCode != 0 && _running != null && !_isStopRequested)
        {
            _isStopRequested = true;

            // BeginStop, not Stop: the signal handler must return while the pipeline unwinds on its own thread.
            _running.BeginStop(null, null);
        }
    }
}
