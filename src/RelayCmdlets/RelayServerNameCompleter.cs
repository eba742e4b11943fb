// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace RelayCmdlets;

/// <summary>Completes <c>-Name</c> of Get-RelayServer and Stop-RelayServer with the running servers' names.</summary>
public sealed class RelayServerNameCompleter : IArgumentCompleter
{
    /// <summary>Lists the running servers whose names start with what was typed, with their endpoints as the tooltip.</summary>
    /// <param name="commandName">The command being completed.</param>
    /// <param name="parameterName">The parameter being completed.</param>
    /// <param name="wordToComplete">What was typed so far.</param>
    /// <param name="commandAst">The command's syntax tree.</param>
    /// <param name="fakeBoundParameters">The parameters bound so far.</param>
    /// <returns>The completions.</returns>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string typed = (wordToComplete ?? string.Empty).Trim('\'', '"');
        return RelayServerRegistry.Find(new[] { WildcardPattern.Escape(typed) + "*" }, new List<string>())
            .Select(server => new CompletionResult(
                server.Name,
                server.Name,
                CompletionResultType.ParameterValue,
                string.Join(", ", server.Endpoints.Concat(server.TlsEndpoints)) + " " + server.SpoolPath))
            .ToList();
    }
}
