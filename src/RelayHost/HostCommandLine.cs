// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.PowerShell;

namespace RelayHost;

/// <summary>What the <c>relay</c> command line asks for.</summary>
internal enum HostAction
{
    /// <summary>Run PowerShell text (the joined words, or -Command).</summary>
    RunCommand,

    /// <summary>Run a script file with arguments (-File).</summary>
    RunFile,

    /// <summary>Print the usage (-Help, -?).</summary>
    ShowHelp,

    /// <summary>Print the version (-Version).</summary>
    ShowVersion,
}

/// <summary>The parsed <c>relay</c> command line, with pwsh's switches and their abbreviations.</summary>
internal sealed class HostCommandLine
{
    /// <summary>The usage text, for -Help and for errors.</summary>
    public const string Usage =
        "Usage: relay [<options>] [--] <command words...>\n" +
        "       relay [<options>] -Command <text...>   (-Command - reads the text from standard input)\n" +
        "       relay [<options>] -File <script.ps1> [script arguments...]\n" +
        "       relay -Help | -? | -Version\n" +
        "Options: -NonInteractive (prompts fail instead of asking), -ExecutionPolicy <policy>,\n" +
        "         -NoProfile and -NoLogo (accepted for pwsh command lines; relay runs no profile and prints no banner)\n" +
        "\n" +
        "Runs PowerShell with the Relay module imported, as pwsh -Command / -File does. Examples:\n" +
        "  relay Start-RelayServer -Port 10025 -SpoolPath ./spool -Wait\n" +
        "  relay 'Get-RelaySpool -SpoolPath ./spool | Where-Object State -eq Bad'\n" +
        "  relay -File ./resubmit.ps1 -SpoolPath ./spool\n" +
        "\n" +
        "Exit code: 0 on success; 1 when the command wrote an error or failed; N for 'exit N';\n" +
        "130, 143 or 129 after SIGINT (Ctrl+C), SIGTERM or SIGHUP stopped the command. A second signal ends relay at once.\n" +
        "The module is loaded from <relay folder>/Relay/Relay.psd1, or from $RELAY_MODULE_PATH when set.";

    /// <summary>pwsh's switches: full name and the shortest abbreviation it accepts.</summary>
    private static readonly (string Name, int MinLength)[] s_switches =
    {
        ("command", 1), ("file", 1), ("help", 1), ("version", 1), ("noprofile", 3), ("noninteractive", 4), ("nologo", 3),
        ("executionpolicy", 2), ("ep", 2),
    };

    private HostCommandLine(HostAction action, string commandText = null, string filePath = null, IReadOnlyList<string> fileArguments = null)
    {
        Action = action;
        CommandText = commandText;
        FilePath = filePath;
        FileArguments = fileArguments;
    }

    /// <summary>What to do.</summary>
    public HostAction Action { get; }

    /// <summary>The PowerShell text to run, for <see cref="HostAction.RunCommand"/>.</summary>
    public string CommandText { get; }

    /// <summary>The script to run, for <see cref="HostAction.RunFile"/>.</summary>
    public string FilePath { get; }

    /// <summary>The script's arguments, as given.</summary>
    public IReadOnlyList<string> FileArguments { get; }

    /// <summary>False when -NonInteractive was given.</summary>
    public bool IsInteractive { get; private set; } = true;

    /// <summary>The execution policy given with -ExecutionPolicy, or null for the engine's default.</summary>
    public ExecutionPolicy? ExecutionPolicy { get; private set; }

    /// <summary>Parses the arguments of <c>relay</c>.</summary>
    /// <param name="args">The process arguments.</param>
    /// <param name="standardInput">Where -Command - reads its text.</param>
    /// <returns>The parsed command line.</returns>
    /// <exception cref="HostUsageException">The arguments are empty or malformed.</exception>
    public static HostCommandLine Parse(IReadOnlyList<string> args, TextReader standardInput)
    {
        bool isInteractive = true;
        ExecutionPolicy? executionPolicy = null;
        HostCommandLine WithOptions(HostCommandLine commandLine)
        {
            commandLine.IsInteractive = isInteractive;
            commandLine.ExecutionPolicy = executionPolicy;
            return commandLine;
        }

        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg == "--")
            {
                // As for other tools: everything after "--" is the command, even words that look like relay's switches.
                return WithOptions(Command(JoinFrom(args, i + 1)));
            }

            if (!IsSwitch(arg))
            {
                return WithOptions(Command(JoinFrom(args, i)));
            }

            switch (MatchSwitch(arg))
            {
                case "command":
                    if (i + 1 >= args.Count)
                    {
                        throw new HostUsageException("-Command needs the PowerShell text to run.");
                    }

                    string text = i + 2 == args.Count && args[i + 1] == "-" ? standardInput.ReadToEnd() : JoinFrom(args, i + 1);
                    return WithOptions(Command(text));
                case "file":
                    if (i + 1 >= args.Count || args[i + 1].Length == 0)
                    {
                        throw new HostUsageException("-File needs the path of a script.");
                    }

                    if (!File.Exists(args[i + 1]))
                    {
                        throw new HostUsageException($"the script file '{args[i + 1]}' does not exist.");
                    }

                    return WithOptions(new HostCommandLine(HostAction.RunFile, filePath: args[i + 1], fileArguments: Slice(args, i + 2)));
                case "help":
                    return new HostCommandLine(HostAction.ShowHelp);
                case "version":
                    return new HostCommandLine(HostAction.ShowVersion);
                case "noninteractive":
                    isInteractive = false;
                    break;
                case "executionpolicy":
                case "ep":
                    executionPolicy = ParseExecutionPolicy(i + 1 < args.Count ? args[++i] : null);
                    break;
                case "noprofile":
                case "nologo":
                    // relay never runs profiles or prints a banner; accepted so pwsh command lines work unchanged.
                    break;
                default:
                    throw new HostUsageException($"unknown option '{arg}'.");
            }
        }

        throw new HostUsageException("no command given.");
    }

    private static HostCommandLine Command(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new HostUsageException("the command is empty.");
        }

        return new HostCommandLine(HostAction.RunCommand, commandText: text);
    }

    private static ExecutionPolicy ParseExecutionPolicy(string value)
    {
        if (value == null || !Enum.TryParse(value, ignoreCase: true, out ExecutionPolicy policy) || !Enum.IsDefined(policy))
        {
            throw new HostUsageException($"-ExecutionPolicy needs one of: {string.Join(", ", Enum.GetNames<ExecutionPolicy>())}.");
        }

        return policy;
    }

    private static bool IsSwitch(string arg) => arg == "/?" || (arg.Length > 1 && arg[0] == '-');

    private static string MatchSwitch(string arg)
    {
        if (arg == "-?" || arg == "/?")
        {
            return "help";
        }

        string name = arg.TrimStart('-').ToLowerInvariant();
        foreach ((string candidate, int minLength) in s_switches)
        {
            if (name.Length >= minLength && candidate.StartsWith(name, StringComparison.Ordinal))
            {
                return candidate;
            }
        }

        return null;
    }

    private static string JoinFrom(IReadOnlyList<string> args, int start) => string.Join(" ", Slice(args, start));

    private static List<string> Slice(IReadOnlyList<string> args, int start)
    {
        var words = new List<string>();
        for (int i = start; i < args.Count; i++)
        {
            words.Add(args[i]);
        }

        return words;
    }
}
