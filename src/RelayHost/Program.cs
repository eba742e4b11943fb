// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace RelayHost;

/// <summary>The <c>relay</c> host: runs a PowerShell command line with the Relay module imported.</summary>
public static class Program
{
    /// <summary>Runs the arguments, joined, as one command line.</summary>
    /// <param name="args">The command line words.</param>
    /// <returns>0 when the command succeeded, 1 otherwise.</returns>
    public static int Main(string[] args)
    {
        InitialSessionState state = InitialSessionState.CreateDefault2();
        state.ImportPSModule(new[] { Path.Combine(AppContext.BaseDirectory, "Relay", "Relay.psd1") });
        using PowerShell shell = PowerShell.Create(state);
        shell.AddScript(string.Join(" ", args));
        foreach (PSObject line in shell.Invoke())
        {
            Console.WriteLine(line);
        }
        foreach (ErrorRecord error in shell.Streams.Error)
        {
            Console.Error.WriteLine(error);
        }
        return shell.HadErrors ? 1 : 0;
    }
}
