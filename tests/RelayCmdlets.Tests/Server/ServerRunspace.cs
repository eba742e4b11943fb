// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using Xunit;

namespace RelayCmdlets.Tests.Server;

/// <summary>
/// A runspace with the built module (bin/Relay, as a user's machine has it) imported, and a
/// temporary folder for the test's spool and files, both cleaned up on dispose.
/// </summary>
public sealed class ServerRunspace : IDisposable
{
    private readonly Runspace _runspace;

    public ServerRunspace()
    {
        _runspace = ModuleRunspace.OpenWithModule(host: null);
        Folder = Directory.CreateTempSubdirectory("relay-server-test-").FullName;
        _runspace.SessionStateProxy.Path.SetLocation(Folder);
    }

    /// <summary>The test's own folder, also the runspace's current location.</summary>
    public string Folder { get; }

    /// <summary>The test's spool directory (not created: the server creates it).</summary>
    public string SpoolPath => Path.Combine(Folder, "spool");

    /// <summary>A server name no other test in this process uses (the registry is process-wide).</summary>
    public static string UniqueName() => "test-" + Guid.NewGuid().ToString("N").Substring(0, 12);

    /// <summary>Sets a variable for later scripts (for values a script cannot write, such as a SecureString).</summary>
    public void SetVariable(string name, object value) => _runspace.SessionStateProxy.SetVariable(name, value);

    /// <summary>A PowerShell bound to this runspace, for scripts run asynchronously or stopped.</summary>
    public PowerShell CreatePowerShell()
    {
        PowerShell shell = PowerShell.Create();
        shell.Runspace = _runspace;
        return shell;
    }

    /// <summary>Runs a script that must not fail; its variables live on in the runspace.</summary>
    public Collection<PSObject> Invoke(string script)
    {
        using PowerShell shell = CreatePowerShell();
        shell.AddScript(script);
        Collection<PSObject> output = shell.Invoke();
        Assert.False(shell.HadErrors, "The script failed: " + string.Join(" | ", shell.Streams.Error));
        return output;
    }

    /// <summary>Runs a script that must fail, and returns its first error, terminating or not.</summary>
    public ErrorRecord InvokeExpectingError(string script)
    {
        using PowerShell shell = CreatePowerShell();
        shell.AddScript(script);
        try
        {
            shell.Invoke();
        }
        catch (RuntimeException error)
        {
            return error.ErrorRecord;
        }
        Assert.True(shell.Streams.Error.Count > 0, "The script was expected to fail and did not: " + script);
        return shell.Streams.Error[0];
    }

    public void Dispose()
    {
        // Stop what this runspace started: the registry outlives the runspace. A runspace still busy
        // with a -Wait pipeline stops that pipeline on close, which stops its server.
        if (_runspace.RunspaceAvailability == RunspaceAvailability.Available)
        {
            using PowerShell shell = CreatePowerShell();
            shell.AddScript("param($folder) Get-RelayServer | Microsoft.PowerShell.Core\\Where-Object { $_.SpoolPath.StartsWith($folder) } | Stop-RelayServer -Confirm:$false")
                .AddArgument(Folder);
            shell.Invoke();
        }
        _runspace.Dispose();
        Directory.Delete(Folder, recursive: true);
    }
}
