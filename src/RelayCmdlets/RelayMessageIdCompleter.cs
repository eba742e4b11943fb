// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using RelayCore.Spool;

namespace RelayCmdlets;

/// <summary>Completes <c>-Id</c> with the ids in the spool that <c>-SpoolPath</c> names (the default spool without it).</summary>
public sealed class RelayMessageIdCompleter : IArgumentCompleter
{
    /// <summary>Lists the ids that start with what was typed, with each message's state and sender as the tooltip.</summary>
    /// <param name="commandName">The command being completed.</param>
    /// <param name="parameterName">The parameter being completed.</param>
    /// <param name="wordToComplete">What was typed so far.</param>
    /// <param name="commandAst">The command's syntax tree.</param>
    /// <param name="fakeBoundParameters">The parameters bound so far, for <c>-SpoolPath</c>.</param>
    /// <returns>The completions; none when the spool cannot be read.</returns>
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        string spoolPath = fakeBoundParameters?["SpoolPath"] as string;
        string typed = (wordToComplete ?? string.Empty).Trim('\'', '"');
        try
        {
            string path = ResolveInCurrentRunspace(string.IsNullOrEmpty(spoolPath) ? SpoolDirectory.DefaultPath : spoolPath);
            return SpoolDirectory.Open(path, create: false)
                .Find(new[] { typed + "*" }, null)
                .Select(message => new CompletionResult(message.Id, message.Id, CompletionResultType.ParameterValue, message.State + " from <" + message.From + ">"))
                .ToList();
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException || error is InvalidDataException || error is SessionStateException)
        {
            // Completion has no error stream: a spool that cannot be read offers nothing.
            return Enumerable.Empty<CompletionResult>();
        }
    }

    private static string ResolveInCurrentRunspace(string path)
    {
        // A completer gets no session state, and the runspace is busy running the completion:
        // a nested command on the current runspace resolves relative paths against $PWD.
        using PowerShell shell = PowerShell.Create(RunspaceMode.CurrentRunspace);
        shell.AddScript("$ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($args[0])").AddArgument(path);
        return shell.Invoke<string>().Single();
    }
}
