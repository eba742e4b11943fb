// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Management.Automation.Language;
using System.Text;
using System.Text.RegularExpressions;

namespace RelayHost;

/// <summary>Builds the command that runs a -File script with its arguments, as pwsh -File does.</summary>
/// <remarks>
/// The script is parsed from its file (so errors and $PSScriptRoot name it) and dot-sourced from a small wrapper
/// rather than invoked by path: only then does <c>exit N</c> in the script end relay with N, as it ends pwsh. (pwsh
/// uses an internal engine switch for this.) Arguments become PowerShell tokens: "-Name" stays a parameter name,
/// "-Name:value" and "-Name: value" bind value to it ($true and $false as booleans), anything else is a quoted string,
/// so the binder pairs them with the script's param() block exactly as on a command line.
/// </remarks>
internal static class FileInvocation
{
    /// <summary>The wrapper's parameter that receives the parsed script.</summary>
    public const string ScriptParameter = "__relayScript";

    private static readonly Regex s_parameterName = new Regex(@"^-[\p{L}_][\p{L}\p{N}_]*:?$", RegexOptions.CultureInvariant);

    /// <summary>The wrapper script text: dot-sources the script given as its one parameter, with the arguments.</summary>
    /// <param name="arguments">The script's arguments, as given on relay's command line.</param>
    /// <returns>PowerShell text.</returns>
    public static string BuildWrapper(IReadOnlyList<string> arguments)
    {
        var text = new StringBuilder("param($").Append(ScriptParameter).Append(") . $").Append(ScriptParameter);
        for (int i = 0; i < arguments.Count; i++)
        {
            string argument = arguments[i];
            text.Append(' ');
            int colon = argument.IndexOf(':');
            if (s_parameterName.IsMatch(argument))
            {
                text.Append(argument);
                if (argument.EndsWith(":", StringComparison.Ordinal) && i + 1 < arguments.Count)
                {
                    text.Append(Value(arguments[++i]));
                }
            }
            else if (colon > 1 && s_parameterName.IsMatch(argument.Substring(0, colon + 1)))
            {
                text.Append(argument, 0, colon + 1).Append(Value(argument.Substring(colon + 1)));
            }
            else
            {
                text.Append(Quote(argument));
            }
        }

        return text.ToString();
    }

    private static string Value(string value)
    {
        if (value.Equals("$true", StringComparison.OrdinalIgnoreCase) || value.Equals("$false", StringComparison.OrdinalIgnoreCase))
        {
            return value;
        }

        return Quote(value);
    }

    private static string Quote(string value) => "'" + CodeGeneration.EscapeSingleQuotedStringContent(value) + "'";
}
