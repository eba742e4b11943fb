// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using Microsoft.PowerShell;

namespace RelayHost;

/// <summary>Runs one <c>relay</c> command line in a runspace that has the Relay module imported, and decides the exit code.</summary>
/// <remarks>
/// Exit codes: N for <c>exit N</c>, as in pwsh; 128 + the signal when SIGINT, SIGTERM or SIGHUP stopped the pipeline; 1 when the
/// command failed with a terminating error or any error record reached the screen (so a script that reports a failure
/// is not mistaken for a success, while errors it caught or silenced with -ErrorAction do not count); else 0.
/// PowerShell.HadErrors cannot decide this: with errors merged into Out-Default it misses errors written inside
/// script blocks and counts errors that a try/catch handled.
/// </remarks>
internal sealed class CommandSession
{
    /// <summary>The exit code for a command that failed or wrote an error.</summary>
    public const int FailureExitCode = 1;

    private const string ModulePathVariable = "RELAY_MODULE_PATH";
    private readonly HostCommandLine _commandLine;
    private readonly ConsoleCapabilities _console;

    /// <summary>Creates the session.</summary>
    /// <param name="commandLine">What to run.</param>
    /// <param name="console">What the standard streams are connected to.</param>
    public CommandSession(HostCommandLine commandLine, ConsoleCapabilities console)
    {
        _commandLine = commandLine;
        _console = console;
    }

    /// <summary>Runs the command line to completion, or until a signal stops it.</summary>
    /// <returns>The process exit code.</returns>
    public int Run()
    {
        var ui = new RelayUserInterface(Console.In, Console.Out, Console.Error, _console, _commandLine.IsInteractive);
        string modulePath = ResolveModulePath();
        if (!File.Exists(modulePath))
        {
            ui.WriteErrorLine($"relay: the Relay module was not found at '{modulePath}'. Build it (dotnet build) or set {ModulePathVariable}.");
            return FailureExitCode;
        }

        var host = new RelayPSHost(ui);
        using var signals = new PipelineSignalHandler();
        using Runspace runspace = RunspaceFactory.CreateRunspace(host, CreateSessionState(modulePath, _commandLine.ExecutionPolicy));
        try
        {
            runspace.Open();
        }
        catch (RunspaceOpenModuleLoadException e)
        {
            ui.WriteErrorLine($"relay: the Relay module at '{modulePath}' could not be loaded: {e.Message}");
            return FailureExitCode;
        }

        if (signals.IsSignalled)
        {
            return signals.ExitCode;
        }

        ScriptBlockAst script = Parse(out ParseError[] parseErrors);
        if (parseErrors.Length > 0)
        {
            var parseError = new ParseException(parseErrors);
            ReportTerminatingError(runspace, parseError.ErrorRecord, parseError.Message, ui);
            return FailureExitCode;
        }

        using PowerShell shell = PowerShell.Create();
        shell.Runspace = runspace;
        AddUserCommand(shell, script);

        // As pwsh does: errors flow through Out-Default with the results, so they render with $ErrorView, in order.
        shell.Commands.Commands[0].MergeMyResults(PipelineResultTypes.Error, PipelineResultTypes.Output);
        shell.AddCommand("Out-Default");

        bool hasFailed = false;
        int errorLinesBefore = ui.ErrorLineCount;
        signals.Attach(shell);
        try
        {
            shell.Invoke();
        }
        catch (PipelineStoppedException)
        {
            // A signal stopped the pipeline (or the script stopped itself); the exit code says which below.
        }
        catch (Exception e) when (e is IContainsErrorRecord withRecord)
        {
            ReportTerminatingError(runspace, withRecord.ErrorRecord, e.Message, ui);
            hasFailed = true;
        }
        finally
        {
            signals.Detach();
        }

        if (host.ExitCode.HasValue)
        {
            return host.ExitCode.Value;
        }

        if (signals.IsSignalled && shell.InvocationStateInfo.State == PSInvocationState.Stopped)
        {
            return signals.ExitCode;
        }

        return hasFailed || ui.ErrorLineCount > errorLinesBefore ? FailureExitCode : 0;
    }

    private static string ResolveModulePath()
    {
        string configured = Environment.GetEnvironmentVariable(ModulePathVariable);
        if (string.IsNullOrEmpty(configured))
        {
            return Path.Combine(AppContext.BaseDirectory, "Relay", "Relay.psd1");
        }

        string fullPath = Path.GetFullPath(configured);
        return Directory.Exists(fullPath) ? Path.Combine(fullPath, "Relay.psd1") : fullPath;
    }

    /// <summary>Parses the command text or script file first, as pwsh does, so a syntax error is shown with its position.</summary>
    /// <remarks>The engine's own exception for an incomplete command carries no position, and the error view then shows nothing.</remarks>
    private ScriptBlockAst Parse(out ParseError[] errors) =>
        _commandLine.Action == HostAction.RunFile
            ? Parser.ParseFile(Path.GetFullPath(_commandLine.FilePath), out _, out errors)
            : Parser.ParseInput(_commandLine.CommandText, out _, out errors);

    private static InitialSessionState CreateSessionState(string modulePath, ExecutionPolicy? executionPolicy)
    {
        InitialSessionState state = InitialSessionState.CreateDefault2();
        // Execution policies exist only on Windows; elsewhere pwsh accepts -ExecutionPolicy and ignores it, as relay does.
        if (executionPolicy.HasValue && OperatingSystem.IsWindows())
        {
            state.ExecutionPolicy = executionPolicy.Value;
        }

        state.ImportPSModule(new[] { modulePath });

        // A module that fails to load must fail relay, not leave a session without its cmdlets.
        state.ThrowOnRunspaceOpenError = true;
        state.Variables.Add(new SessionStateVariableEntry("ErrorView", "ConciseView", "How errors are shown: one line with the command and message, as pwsh does by default."));
        return state;
    }

    private void AddUserCommand(PowerShell shell, ScriptBlockAst script)
    {
        if (_commandLine.Action == HostAction.RunFile)
        {
            shell.AddScript(FileInvocation.BuildWrapper(_commandLine.FileArguments), useLocalScope: true)
                .AddParameter(FileInvocation.ScriptParameter, script.GetScriptBlock());
        }
        else
        {
            shell.AddScript(_commandLine.CommandText, useLocalScope: false);
        }
    }

    /// <summary>Renders a terminating error as pwsh does: through Out-Default, to the error stream, with $ErrorView.</summary>
    private static void ReportTerminatingError(Runspace runspace, ErrorRecord record, string message, RelayUserInterface ui)
    {
        using PowerShell shell = PowerShell.Create();
        shell.Runspace = runspace;
        shell.AddCommand("Out-Default");
        ui.IsRenderingError = true;
        try
        {
            shell.Invoke(new[] { record });
        }
        catch (RuntimeException)
        {
            // The formatter itself failed: the bare message is still better than nothing.
            ui.WriteErrorLine(message);
        }
        finally
        {
            ui.IsRenderingError = false;
        }
    }
}
