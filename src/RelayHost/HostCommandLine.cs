// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;

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
        "Usage: relay [-NoProfile] [-NonInteractive] <command words...>\n" +
        "       relay [-NoProfile] [-NonInteractive] -Command <text...>   (-Command - reads the text from standard input)\n" +
        "       relay [-NoProfile] [-NonInteractive] -File <script.ps1> [script arguments...]\n" +
        "       relay -Help | -? | -Version\n" +
        "\n" +
        "Runs PowerShell with the Relay module imported, as pwsh -Command / -File does. Examples:\n" +
        "  relay Start-RelayServer -Port 10025 -SpoolPath ./spool -Wait\n" +
        "  relay 'Get-RelaySpool -SpoolPath ./spool | Where-Object State -eq Bad'\n" +
        "  relay -File ./resubmit.ps1 -SpoolPath ./spool\n" +
        "\n" +
        "Exit code: 0 on success; 1 when the command wrote an error or failed; N for 'exit N';\n" +
        "130 after Ctrl+C (SIGINT) and 143 after SIGTERM stopped the command. A second signal ends relay at once.\n" +
        "The module is loaded from <relay folder>/Relay/Relay.psd1, or from $RELAY_MODULE_PATH when set.";

    /// <summary>pwsh's switches: full name and the shortest abbreviation it accepts.</summary>
    private static readonly (string Name, int MinLength)[] s_switches =
    {
        ("command", 1), ("file", 1), ("help", 1), ("version", 1), ("noprofile", 3), ("noninteractive", 4), ("nologo", 3),
    };

    private HostCommandLine(HostAction action, string commandText, string filePath, IReadOnlyList<string> fileArguments, bool isInteractive)
    {
        Action = action;
        CommandText = commandText;
        FilePath = filePath;
        FileArguments = fileArguments;
        IsInteractive = isInteractive;
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
    public bool IsInteractive { get; }

    /// <summary>Parses the arguments of <c>relay</c>.</summary>
    /// <param name="args">The process arguments.</param>
    /// <param name="standardInput">Where -Command - reads its text.</param>
    /// <returns>The parsed command line.</returns>
    /// <exception cref="HostUsageException">The arguments are empty or malformed.</exception>
    public static HostCommandLine Parse(IReadOnlyList<string> args, TextReader standardInput)
    {
        bool isInteractive = true;
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!IsSwitch(arg))
            {
                return Command(JoinFrom(args, i), isInteractive);
            }

            switch (MatchSwitch(arg))
            {
                case "command":
                    if (i + 1 >= args.Count)
                    {
                        throw new HostUsageException("-Command needs the PowerShell text to run.");
                    }

                    string text = i + 2 == args.Count && args[i + 1] == "-" ? standardInput.ReadToEnd() : JoinFrom(args, i + 1);
                    return Command(text, isInteractive);
                case "file":
                    if (i + 1 >= args.Count || args[i + 1].Length == 0)
                    {
                        throw new HostUsageException("-File needs the path of a script.");
                    }

                    if (!File.Exists(args[i + 1]))
                    {
                        throw new HostUsageException($"the script file '{args[i + 1]}' does not exist.");
                    }

                    return new HostCommandLine(HostAction.RunFile, null, args[i + 1], Slice(args, i + 2), isInteractive);
                case "help":
                    return new HostCommandLine(HostAction.ShowHelp, null, null, null, isInteractive);
                case "version":
                    return new HostCommandLine(HostAction.ShowVersion, null, null, null, isInteractive);
                case "noninteractive":
                    isInteractive = false;
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

    private static HostCommandLine Command(string text, bool isInteractive)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new HostUsageException("the command is empty.");
        }

        return new HostCommandLine(HostAction.RunCommand, text, null, null, isInteractive);
    }

    private static bool IsSwitch(string arg) => arg == "-?" || arg == "/?" || (arg.Length > 1 && arg[0] == '-' && arg != "--");

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
