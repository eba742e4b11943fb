// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace RelayCmdlets.Tests;

/// <summary>What one script wrote to each stream, and to the host (WhatIf and confirmation text).</summary>
public sealed class PipelineResult
{
    /// <summary>Creates the result.</summary>
    public PipelineResult(IReadOnlyList<PSObject> output, IReadOnlyList<ErrorRecord> errors, IReadOnlyList<string> verbose, IReadOnlyList<string> warnings, IReadOnlyList<string> hostLines)
    {
        Output = output;
        Errors = errors;
        Verbose = verbose;
        Warnings = warnings;
        HostLines = hostLines;
    }

    /// <summary>The output objects.</summary>
    public IReadOnlyList<PSObject> Output { get; }

    /// <summary>The error records, terminating and not.</summary>
    public IReadOnlyList<ErrorRecord> Errors { get; }

    /// <summary>The verbose messages.</summary>
    public IReadOnlyList<string> Verbose { get; }

    /// <summary>The warning messages.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The lines written to the host, e.g. "What if: ...".</summary>
    public IReadOnlyList<string> HostLines { get; }

    /// <summary>The FullyQualifiedErrorId of every error, in order.</summary>
    public IReadOnlyList<string> ErrorIds => Errors.Select(error => error.FullyQualifiedErrorId).ToList();

    /// <summary>The output objects' base objects, cast.</summary>
    /// <typeparam name="T">The expected type.</typeparam>
    /// <returns>The objects.</returns>
    public IReadOnlyList<T> OutputOf<T>() => Output.Select(item => (T)item.BaseObject).ToList();
}
