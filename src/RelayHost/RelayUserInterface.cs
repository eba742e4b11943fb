// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;
using System.Threading;

namespace RelayHost;

/// <summary>The user interface of the <c>relay</c> host: where each PowerShell stream goes, and prompts.</summary>
/// <remarks>
/// Output and information (Write-Host) go to standard output; errors, warnings, verbose and debug messages go to
/// standard error with pwsh's prefixes, so that a script's results can be piped while its diagnostics stay visible.
/// </remarks>
internal sealed class RelayUserInterface : PSHostUserInterface
{
    private readonly TextWriter _output;
    private readonly TextWriter _error;
    private readonly ConsoleCapabilities _console;
    private readonly RelayRawUserInterface _rawUI;
    private readonly ProgressLine _progress;
    private readonly ConsolePrompter _prompter;
    private readonly object _writeLock = new object();
    private int _errorLineCount;

    /// <summary>Creates the interface over the given streams.</summary>
    /// <param name="input">Standard input.</param>
    /// <param name="output">Standard output.</param>
    /// <param name="error">Standard error.</param>
    /// <param name="console">What the standard streams are connected to.</param>
    /// <param name="isInteractive">False when -NonInteractive was given: prompts then fail even at a terminal.</param>
    public RelayUserInterface(TextReader input, TextWriter output, TextWriter error, ConsoleCapabilities console, bool isInteractive)
    {
        _output = output;
        _error = error;
        _console = console;
        _rawUI = new RelayRawUserInterface(console);
        _progress = new ProgressLine(error, console);
        string cannotPromptReason = !isInteractive ? "-NonInteractive was given"
            : !console.IsInputTerminal ? "standard input is not a terminal"
            : null;
        _prompter = new ConsolePrompter(input, error, cannotPromptReason);
    }

    /// <inheritdoc/>
    public override PSHostRawUserInterface RawUI => _rawUI;

    /// <inheritdoc/>
    /// <remarks>The formatter emits colour (and the error view its highlights) only when this is true.</remarks>
    public override bool SupportsVirtualTerminal => _console.UseColor;

    /// <summary>While true, output written through the host goes to standard error, styled as an error.</summary>
    /// <remarks>Set while a terminating error is rendered through Out-Default, so that it lands where pwsh puts it.</remarks>
    public bool IsRenderingError { get; set; }

    /// <summary>How many error lines have been shown: error records that reached the screen, and the host's own errors.</summary>
    public int ErrorLineCount => Volatile.Read(ref _errorLineCount);

    /// <inheritdoc/>
    public override void Write(string value) => WriteOutput(value, newLine: false);

    /// <inheritdoc/>
    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value)
    {
        // Only what differs from the defaults, so a terminal's own background (light or dark) is left alone.
        string style = (foregroundColor != _rawUI.ForegroundColor ? AnsiColor.Foreground(foregroundColor) : string.Empty)
            + (backgroundColor != _rawUI.BackgroundColor ? AnsiColor.Background(backgroundColor) : string.Empty);
        if (style.Length > 0)
        {
            value = style + value + PSStyle.Instance.Reset;
        }

        WriteOutput(value, newLine: false);
    }

    /// <inheritdoc/>
    public override void WriteLine(string value) => WriteOutput(value, newLine: true);

    /// <inheritdoc/>
    public override void WriteErrorLine(string value)
    {
        Interlocked.Increment(ref _errorLineCount);
        WriteTo(_error, StyleError(value), newLine: true);
    }

    /// <inheritdoc/>
    public override void WriteWarningLine(string message) => WriteDiagnostic(PSStyle.Instance.Formatting.Warning, "WARNING: ", message);

    /// <inheritdoc/>
    public override void WriteVerboseLine(string message) => WriteDiagnostic(PSStyle.Instance.Formatting.Verbose, "VERBOSE: ", message);

    /// <inheritdoc/>
    public override void WriteDebugLine(string message) => WriteDiagnostic(PSStyle.Instance.Formatting.Debug, "DEBUG: ", message);

    /// <inheritdoc/>
    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
        lock (_writeLock)
        {
            _progress.Show(record);
        }
    }

    /// <inheritdoc/>
    public override string ReadLine() => Ask(() => _prompter.ReadLine());

    /// <inheritdoc/>
    public override SecureString ReadLineAsSecureString() => Ask(() => _prompter.ReadSecret());

    /// <inheritdoc/>
    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) =>
        Ask(() => _prompter.Prompt(caption, message, descriptions));

    /// <inheritdoc/>
    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) =>
        Ask(() => _prompter.PromptForChoice(caption, message, choices, defaultChoice));

    /// <inheritdoc/>
    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        Ask(() => _prompter.PromptForCredential(caption, message, userName));

    /// <inheritdoc/>
    public override PSCredential PromptForCredential(
        string caption,
        string message,
        string userName,
        string targetName,
        PSCredentialTypes allowedCredentialTypes,
        PSCredentialUIOptions options) =>
        Ask(() => _prompter.PromptForCredential(caption, message, userName));

    private void WriteOutput(string value, bool newLine)
    {
        if (IsRenderingError)
        {
            WriteTo(_error, StyleError(value), newLine);
        }
        else
        {
            // Drops the formatter's and the user's escape sequences unless colour is wanted ($PSStyle.OutputRendering, NO_COLOR).
            WriteTo(_output, GetOutputString(value, _console.UseColor), newLine);
        }
    }

    private string StyleError(string value)
    {
        // The error view colours its own text; plain lines (e.g. from the host itself) get the error colour.
        if (value.IndexOf('\u001b') < 0)
        {
            value = PSStyle.Instance.Formatting.Error + value + PSStyle.Instance.Reset;
        }

        return GetOutputString(value, _console.UseErrorColor);
    }

    private void WriteDiagnostic(string style, string prefix, string message) =>
        WriteTo(_error, GetOutputString(style + prefix + message + PSStyle.Instance.Reset, _console.UseErrorColor), newLine: true);

    private void WriteTo(TextWriter writer, string value, bool newLine)
    {
        lock (_writeLock)
        {
            _progress.Erase();
            if (newLine)
            {
                writer.WriteLine(value);
            }
            else
            {
                writer.Write(value);
            }
        }
    }

    private T Ask<T>(Func<T> prompt)
    {
        lock (_writeLock)
        {
            _progress.Erase();
        }

        return prompt();
    }
}
