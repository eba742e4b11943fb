// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.Text.RegularExpressions;
using Xunit;

namespace RelayCmdlets.Tests.Host;

/// <summary>relay's own switches, as pwsh spells them, and its usage errors.</summary>
public sealed class CommandLineTests
{
    [Fact]
    public void NoArguments_PrintsUsageToStderr_ExitsTwo()
    {
        RelayResult result = RelayProcess.Run();

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("", result.Output);
        Assert.Contains("Usage: relay", result.Error);
    }

    [Fact]
    public void UnknownOption_BeforeCommand_ExitsTwo()
    {
        RelayResult result = RelayProcess.Run("-Bogus", "Get-Command");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("unknown option '-Bogus'", result.Error);
    }

    [Theory]
    [InlineData("-Help")]
    [InlineData("-?")]
    [InlineData("-h")]
    public void Help_AnySpelling_PrintsUsageToStdout(string option)
    {
        RelayResult result = RelayProcess.Run(option);

        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("Usage: relay", result.Output);
    }

    [Fact]
    public void Version_PrintsRelayAndEngineVersions()
    {
        RelayResult result = RelayProcess.Run("-Version");

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(new Regex(@"^relay \d+\.\d+\.\d+ \(PowerShell 7\.\d+\.\d+\)\n$"), result.Output);
    }

    [Theory]
    [InlineData("-NoProfile", "-Command", "'a' + 'b'")]
    [InlineData("-nop", "-c", "'a'", "+", "'b'")]
    [InlineData("'a'", "+", "'b'")]
    public void Command_WordsOrSwitches_RunJoinedAsOneCommand(params string[] arguments)
    {
        RelayResult result = RelayProcess.Run(arguments);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("ab\n", result.Output);
    }

    [Fact]
    public void CommandDash_ReadsCommandFromStdin()
    {
        RelayResult result = RelayProcess.Run(["-Command", "-"], "'from'\n'stdin'\n");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("from\nstdin\n", result.Output);
    }

    [Fact]
    public void ModulePath_Missing_ExitsOneNamingIt()
    {
        var environment = new Dictionary<string, string> { ["RELAY_MODULE_PATH"] = "/nonexistent/Relay.psd1" };

        RelayResult result = RelayProcess.Run(["Get-Command"], "", environment);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("'/nonexistent/Relay.psd1'", result.Error);
    }
}
