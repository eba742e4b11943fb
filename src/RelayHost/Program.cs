// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Management.Automation;

namespace RelayHost;

/// <summary>The <c>relay</c> host: runs a PowerShell command line with the Relay module imported.</summary>
public static class Program
{
    /// <summary>The exit code for a malformed command line, as for other command-line tools.</summary>
    private const int UsageExitCode = 2;

    /// <summary>Runs the arguments as pwsh -Command or -File would, with the Relay module imported.</summary>
    /// <param name="args">The command line words.</param>
    /// <returns>0 on success, 1 when the command failed or wrote an error, N for <c>exit N</c>, 2 for bad usage,
    /// 130, 143 or 129 when SIGINT, SIGTERM or SIGHUP stopped it.</returns>
    public static int Main(string[] args)
    {
        HostCommandLine commandLine;
        try
        {
            commandLine = HostCommandLine.Parse(args, Console.In);
        }
        catch (HostUsageException e)
        {
            Console.Error.WriteLine($"relay: {e.Message}");
            Console.Error.WriteLine(HostCommandLine.Usage);
            return UsageExitCode;
        }

        switch (commandLine.Action)
        {
            case HostAction.ShowHelp:
                Console.Out.WriteLine(HostCommandLine.Usage);
                return 0;
            case HostAction.ShowVersion:
                Console.Out.WriteLine($"relay {typeof(Program).Assembly.GetName().Version.ToString(3)} (PowerShell {PSVersionInfo.PSVersion})");
                return 0;
            default:
                return new CommandSession(commandLine, ConsoleCapabilities.Detect()).Run();
        }
    }
}
