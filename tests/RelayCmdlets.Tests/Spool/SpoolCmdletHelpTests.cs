// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Linq;
using Xunit;

namespace RelayCmdlets.Tests.Spool;

public sealed class SpoolCmdletHelpTests : IClassFixture<ModuleRunspace>
{
    private readonly ModuleRunspace _shell;

    public SpoolCmdletHelpTests(ModuleRunspace shell) => _shell = shell;

    [Theory]
    [InlineData("Get-RelaySpool")]
    [InlineData("Submit-RelayMessage")]
    [InlineData("Remove-RelayMessage")]
    [InlineData("Reset-RelayBadMessage")]
    [InlineData("Invoke-RelayForward")]
    [InlineData("Test-RelayConnection")]
    [InlineData("New-RelayOAuthAccount")]
    [InlineData("Get-RelayOAuthAccount")]
    public void GetHelpExamples_InTheEmbeddedEngine_ReturnsTheMamlExamples(string command)
    {
        PipelineResult result = _shell.Invoke(
            "$help = Get-Help $command -Examples; $help.Synopsis; @($help.examples.example).Count; @($help.examples.example)[0].code",
            ("command", command));

        Assert.Empty(result.Errors);
        string[] lines = result.Output.Select(item => item.ToString()).ToArray();
        Assert.DoesNotContain(command, lines[0], System.StringComparison.Ordinal);
        Assert.True(int.Parse(lines[1], System.Globalization.CultureInfo.InvariantCulture) >= 2, command + " has fewer than two examples.");
        Assert.Contains(command, lines[2], System.StringComparison.Ordinal);
    }

    [Fact]
    public void GetHelpAboutRelay_InTheEmbeddedEngine_ReturnsTheTopic()
    {
        PipelineResult result = _shell.Invoke("Get-Help about_Relay | ForEach-Object { $_.ToString() }");

        Assert.Empty(result.Errors);
        Assert.Contains("Reset-RelayBadMessage", string.Concat(result.Output.Select(item => item.ToString())), System.StringComparison.Ordinal);
    }
}
