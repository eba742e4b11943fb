// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace RelayCmdlets.Tests;

public sealed class ModulePageTests : IClassFixture<ModuleRunspace>
{
    private readonly ModuleRunspace _shell;

    public ModulePageTests(ModuleRunspace shell) => _shell = shell;

    [Fact]
    public void ModulePage_ForEveryExportedCmdlet_ListsItWithItsHelpSynopsis()
    {
        Dictionary<string, string> listed = Regex
            .Matches(File.ReadAllText(Path.Combine(Repository.Root, "docs", "help", "Relay.md")), @"^### \[(?<name>[^\]]+)\]\([^)]+\)\r?\n(?<synopsis>[^\r\n]+)", RegexOptions.Multiline)
            .ToDictionary(match => match.Groups["name"].Value, match => match.Groups["synopsis"].Value);

        PipelineResult result = _shell.Invoke("(Get-Module Relay).ExportedCmdlets.Keys | ForEach-Object { $_; (Get-Help $_).Synopsis.Trim() }");

        Assert.Empty(result.Errors);
        IReadOnlyList<string> pairs = result.OutputOf<string>();
        Assert.NotEmpty(pairs);
        for (int i = 0; i < pairs.Count; i += 2)
        {
            Assert.True(listed.ContainsKey(pairs[i]), pairs[i] + " is not on the module page.");
            Assert.Equal(pairs[i + 1], listed[pairs[i]]);
        }
    }
}
