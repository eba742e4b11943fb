// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;

namespace RelayHost;

/// <summary>What the process's standard streams are connected to, read once at start.</summary>
internal sealed class ConsoleCapabilities
{
    /// <summary>The line width used when standard output is not a terminal, so redirected tables stay stable.</summary>
    public const int RedirectedWidth = 120;

    /// <summary>The window height assumed when standard output is not a terminal.</summary>
    public const int RedirectedHeight = 50;

    private ConsoleCapabilities(bool isInputTerminal, bool isOutputTerminal, bool isErrorTerminal, bool useColor, bool useErrorColor)
    {
        IsInputTerminal = isInputTerminal;
        IsOutputTerminal = isOutputTerminal;
        IsErrorTerminal = isErrorTerminal;
        UseColor = useColor;
        UseErrorColor = useErrorColor;
    }

    /// <summary>Whether standard input is a terminal a person can answer prompts on.</summary>
    public bool IsInputTerminal { get; }

    /// <summary>Whether standard output is a terminal.</summary>
    public bool IsOutputTerminal { get; }

    /// <summary>Whether standard error is a terminal.</summary>
    public bool IsErrorTerminal { get; }

    /// <summary>Whether to emit ANSI colours: standard output is a terminal (on Windows, one that accepts them) and NO_COLOR is unset.</summary>
    /// <remarks>NO_COLOR is the cross-tool convention (https://no-color.org): any non-empty value disables colour.</remarks>
    public bool UseColor { get; }

    /// <summary>Whether to emit ANSI colours on standard error: it is a terminal and NO_COLOR is unset.</summary>
    public bool UseErrorColor { get; }

    /// <summary>Reads the capabilities of the current process's console.</summary>
    /// <returns>The capabilities.</returns>
    public static ConsoleCapabilities Detect()
    {
        bool noColor = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        bool isOutputTerminal = !Console.IsOutputRedirected;
        bool isErrorTerminal = !Console.IsErrorRedirected;
        bool useColor = isOutputTerminal && !noColor && (!OperatingSystem.IsWindows() || WindowsConsole.TryEnableOnOutput());
        bool useErrorColor = isErrorTerminal && !noColor && (!OperatingSystem.IsWindows() || WindowsConsole.TryEnableOnError());
        return new ConsoleCapabilities(!Console.IsInputRedirected, isOutputTerminal, isErrorTerminal, useColor, useErrorColor);
    }

    /// <summary>The current line width: the terminal's when standard output is one, else <see cref="RedirectedWidth"/>.</summary>
    /// <returns>The width in characters.</returns>
    public int GetWidth() => ReadDimension(() => Console.WindowWidth, RedirectedWidth);

    /// <summary>The current window height: the terminal's when standard output is one, else <see cref="RedirectedHeight"/>.</summary>
    /// <returns>The height in lines.</returns>
    public int GetHeight() => ReadDimension(() => Console.WindowHeight, RedirectedHeight);

    private int ReadDimension(Func<int> read, int fallback)
    {
        if (!IsOutputTerminal)
        {
            return fallback;
        }

        try
        {
            int value = read();
            return value > 0 ? value : fallback;
        }
        catch (IOException)
        {
            // A terminal that cannot report its size (a serial line, some CI pseudo-terminals) still gets readable output.
            return fallback;
        }
    }
}
