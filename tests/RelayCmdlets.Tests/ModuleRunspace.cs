// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;

namespace RelayCmdlets.Tests;

/// <summary>
/// A PowerShell runspace with the built module (<c>&lt;test output&gt;/Relay/Relay.psd1</c>)
/// imported, as a user's session has it. Use one per test class (<c>IClassFixture</c>): a
/// runspace runs one pipeline at a time, and xunit runs the classes in parallel.
/// </summary>
public sealed class ModuleRunspace : IDisposable
{
    private readonly RecordingHost _host = new RecordingHost();
    private readonly Runspace _runspace;

    /// <summary>Opens the runspace and imports the module; fails if the module does not load.</summary>
    public ModuleRunspace()
    {
        _runspace = OpenWithModule(_host);
    }

    /// <summary>The module manifest the tests import: the build's module folder copied beside the tests.</summary>
    public static string ModulePath => Path.Combine(AppContext.BaseDirectory, "Relay", "Relay.psd1");

    /// <summary>Opens a runspace with the module imported; throws if the module does not load.</summary>
    /// <param name="host">The host the runspace writes to, or null for PowerShell's default host.</param>
    /// <returns>The open runspace.</returns>
    public static Runspace OpenWithModule(PSHost host)
    {
        InitialSessionState state = InitialSessionState.CreateDefault2();
        state.ImportPSModule(ModulePath);
        state.ThrowOnRunspaceOpenError = true;
        Runspace runspace = host == null ? RunspaceFactory.CreateRunspace(state) : RunspaceFactory.CreateRunspace(host, state);
        runspace.Open();
        return runspace;
    }

    /// <summary>Runs a script with the given variables set, collecting every stream.</summary>
    /// <param name="script">The PowerShell script.</param>
    /// <param name="variables">Variables to set first, as name/value pairs.</param>
    /// <returns>What the script wrote.</returns>
    public PipelineResult Invoke(string script, params (string Name, object Value)[] variables)
    {
        lock (_host)
        {
            _host.Lines.Clear();
            using PowerShell shell = PowerShell.Create();
            shell.Runspace = _runspace;
            foreach ((string name, object value) in variables)
            {
                _runspace.SessionStateProxy.SetVariable(name, value);
            }
            shell.AddScript(script);
            var output = shell.Invoke().ToList();
            return new PipelineResult(
                output,
                shell.Streams.Error.ToList(),
                shell.Streams.Verbose.Select(record => record.Message).ToList(),
                shell.Streams.Warning.Select(record => record.Message).ToList(),
                _host.Lines.ToList());
        }
    }

    /// <summary>A pipeline on this runspace with the given variables set, for a test to start and stop itself.</summary>
    /// <param name="script">The PowerShell script.</param>
    /// <param name="variables">Variables to set first, as name/value pairs.</param>
    /// <returns>The pipeline, not yet started.</returns>
    public PowerShell CreatePowerShell(string script, params (string Name, object Value)[] variables)
    {
        foreach ((string name, object value) in variables)
        {
            _runspace.SessionStateProxy.SetVariable(name, value);
        }
        PowerShell shell = PowerShell.Create();
        shell.Runspace = _runspace;
        shell.AddScript(script);
        return shell;
    }

    /// <summary>Closes the runspace.</summary>
    public void Dispose() => _runspace.Dispose();
}
