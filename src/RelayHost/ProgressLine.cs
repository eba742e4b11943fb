// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Management.Automation;
using System.Text;

namespace RelayHost;

/// <summary>Shows the latest progress record as one line on standard error, and only when that is a terminal.</summary>
/// <remarks>
/// Progress is for a person watching: in a log file or a pipe the redrawn lines would be noise, so they are dropped there.
/// </remarks>
internal sealed class ProgressLine
{
    private const string EraseLine = "\r\u001b[K";
    private readonly TextWriter _error;
    private readonly ConsoleCapabilities _console;
    private bool _isShown;

    /// <summary>Creates the renderer.</summary>
    /// <param name="error">Standard error.</param>
    /// <param name="console">What the standard streams are connected to.</param>
    public ProgressLine(TextWriter error, ConsoleCapabilities console)
    {
        _error = error;
        _console = console;
    }

    /// <summary>Draws the record over the previous one, or erases the line when the record is completed.</summary>
    /// <param name="record">The progress record.</param>
    public void Show(ProgressRecord record)
    {
        if (!_console.IsErrorTerminal)
        {
            return;
        }

        if (record.RecordType == ProgressRecordType.Completed)
        {
            Erase();
            return;
        }

        string text = Describe(record);
        int width = Math.Max(1, _console.GetWidth() - 1);
        if (text.Length > width)
        {
            text = text.Substring(0, width);
        }

        _error.Write(EraseLine + text);
        _isShown = true;
    }

    /// <summary>Erases the progress line, if one is shown, so that other output starts on a clean line.</summary>
    public void Erase()
    {
        if (_isShown)
        {
            _error.Write(EraseLine);
            _isShown = false;
        }
    }

    private static string Describe(ProgressRecord record)
    {
        var text = new StringBuilder(record.Activity);
        if (!string.IsNullOrEmpty(record.StatusDescription))
        {
            text.Append(": ").Append(record.StatusDescription);
        }

        if (record.PercentComplete >= 0)
        {
            text.Append(" [").Append(record.PercentComplete).Append("%]");
        }

        if (!string.IsNullOrEmpty(record.CurrentOperation))
        {
            text.Append(' ').Append(record.CurrentOperation);
        }

        return text.ToString();
    }
}
