// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;

namespace RelayHost;

/// <summary>ANSI SGR sequences for the sixteen console colours (Write-Host -ForegroundColor and -BackgroundColor).</summary>
internal static class AnsiColor
{
    /// <summary>SGR foreground codes indexed by <see cref="ConsoleColor"/>: dark colours 30-37, bright ones 90-97.</summary>
    private static readonly int[] s_foregroundCodes = { 30, 34, 32, 36, 31, 35, 33, 37, 90, 94, 92, 96, 91, 95, 93, 97 };

    /// <summary>The sequence that sets the foreground colour.</summary>
    /// <param name="color">The colour.</param>
    /// <returns>The escape sequence, or empty for a value outside the sixteen colours.</returns>
    public static string Foreground(ConsoleColor color) => Sequence(color, 0);

    /// <summary>The sequence that sets the background colour.</summary>
    /// <param name="color">The colour.</param>
    /// <returns>The escape sequence, or empty for a value outside the sixteen colours.</returns>
    public static string Background(ConsoleColor color) => Sequence(color, 10);

    private static string Sequence(ConsoleColor color, int offset)
    {
        int index = (int)color;
        if (index < 0 || index >= s_foregroundCodes.Length)
        {
            return string.Empty;
        }

        return string.Format(CultureInfo.InvariantCulture, "\u001b[{0}m", s_foregroundCodes[index] + offset);
    }
}
