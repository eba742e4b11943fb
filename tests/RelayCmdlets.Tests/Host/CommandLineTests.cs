// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
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
    [InlineData("-ExecutionPolicy", "Sometimes", "'a'")]
    [InlineData("-ep")]
    public void ExecutionPolicy_InvalidOrMissing_ExitsTwo(params string[] arguments)
    {
        RelayResult result = RelayProcess.Run(arguments);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("-ExecutionPolicy needs one of: Unrestricted, RemoteSigned", result.Error);
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
    [InlineData("-NonInteractive", "--", "'a'", "+", "'b'")]
    [InlineData("-ExecutionPolicy", "Bypass", "-NoLogo", "-c", "'a' + 'b'")]
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
        string missing = Path.Combine(Path.GetTempPath(), "relay-no-such-module-" + Guid.NewGuid().ToString("N"), "Relay.psd1");
        var environment = new Dictionary<string, string> { ["RELAY_MODULE_PATH"] = missing };

        RelayResult result = RelayProcess.Run(["Get-Command"], "", environment);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"'{missing}'", result.Error);
    }

    [Fact]
    public void ModulePath_BrokenManifest_ExitsOneSayingWhy()
    {
        using var folder = new TempFolder();
        string manifest = folder.Write("Relay.psd1", "@{ RootModule = 'Missing.dll'; ModuleVersion = '1.0' }");
        var environment = new Dictionary<string, string> { ["RELAY_MODULE_PATH"] = manifest };

        RelayResult result = RelayProcess.Run(["Get-Command"], "", environment);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith($"relay: the Relay module at '{manifest}' could not be loaded:", result.Error);
        Assert.Contains("Missing.dll", result.Error);
    }

    [Fact]
    public void ModulePath_Folder_LoadsTheManifestInside()
    {
        string moduleFolder = Path.GetDirectoryName(RelayProcess.DefaultModulePath);
        var environment = new Dictionary<string, string> { ["RELAY_MODULE_PATH"] = moduleFolder };

        RelayResult result = RelayProcess.Run(["(Get-Module Relay).Path"], "", environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith(moduleFolder, result.Output);
    }
}
