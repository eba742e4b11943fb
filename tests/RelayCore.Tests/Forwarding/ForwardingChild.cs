// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Diagnostics;
using System.Threading.Tasks;
using RelayCore.Net;
using RelayCore.Tests.Spool;

namespace RelayCore.Tests.Forwarding;

/// <summary>Another process forwarding a spool (<see cref="ChildProcessEntry.Forward"/>), its output collected.</summary>
internal sealed class ForwardingChild : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _output;
    private readonly Task<string> _errors;

    private ForwardingChild(Process process)
    {
        _process = process;
        _output = process.StandardOutput.ReadToEndAsync();
        _errors = process.StandardError.ReadToEndAsync();
    }

    internal bool HasExited => _process.HasExited;

    internal static ForwardingChild Start(string spoolPath, NextHopAddress hop) =>
        new ForwardingChild(ChildProcessEntry.Start(ChildProcessEntry.Forward, spoolPath, hop.ToString()));

    internal async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
    }

    /// <summary>What it printed: one line per settled message, then any errors.</summary>
    internal async Task<string> OutputAsync() => await _output + await _errors;

    public void Dispose() => _process.Dispose();
}
