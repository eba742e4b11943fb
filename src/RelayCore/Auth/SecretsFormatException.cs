// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Auth;

/// <summary>A secrets file line that cannot be read.</summary>
public sealed class SecretsFormatException : FormatException
{
    /// <summary>Creates the exception for one line.</summary>
    /// <param name="source">The file path or other name of the text.</param>
    /// <param name="lineNumber">The 1-based line number.</param>
    /// <param name="problem">What is wrong with the line.</param>
    public SecretsFormatException(string source, int lineNumber, string problem)
        : base(source + " line " + lineNumber + ": " + problem)
    {
        Source = source;
        LineNumber = lineNumber;
        Problem = problem;
    }

    /// <summary>The file path or other name of the text.</summary>
    public new string Source { get; }

    /// <summary>The 1-based number of the bad line.</summary>
    public int LineNumber { get; }

    /// <summary>What is wrong with the line, without the location.</summary>
    public string Problem { get; }
}
