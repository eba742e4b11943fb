// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Host;

/// <summary>relay formats objects through Out-Default as a shell does, and sends each stream where it belongs.</summary>
public sealed class OutputFormattingTests
{
    /// <summary>$PSStyle.Formatting.TableHeader's default: bold green.</summary>
    private const string TableHeaderStyle = "\u001b[32;1m";

    /// <summary>One progress record at 50%, then output.</summary>
    private const string ProgressScript = "& { [CmdletBinding()] param() " +
        "$record = [System.Management.Automation.ProgressRecord]::new(1, 'Copying', 'half way'); $record.PercentComplete = 50; " +
        "$PSCmdlet.WriteProgress($record); 'done' }";

    private readonly ITestOutputHelper _log;

    public OutputFormattingTests(ITestOutputHelper log)
    {
        _log = log;
    }

    [Fact]
    public void GetCommand_RelayModule_PrintsTable()
    {
        RelayResult result = RelayProcess.Run("Get-Command", "-Module", "Relay");

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(new Regex(@"^CommandType\s+Name\s+Version\s+Source\s*$", RegexOptions.Multiline), result.Output);
        Assert.Matches(new Regex(@"^-{11}\s+-{4}\s+-{7}\s+-{6}\s*$", RegexOptions.Multiline), result.Output);
        Assert.Matches(new Regex(@"^Cmdlet\s+Get-RelaySpool\s+\d+\.\d+\.\d+\s+Relay\s*$", RegexOptions.Multiline), result.Output);
        Assert.Equal("", result.Error);
    }

    [Fact]
    public void GetRelaySpool_EmailRelaySpool_UsesModuleTableView()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        RelayResult result = RelayProcess.Run("Get-RelaySpool", "-SpoolPath", spool.Path);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(new Regex(@"^Id\s+State\s+Received\s+From\s+To\s+Size", RegexOptions.Multiline), result.Output);
        Assert.Matches(new Regex("^" + Regex.Escape(TestSpool.BadMessageId) + @"\s+Bad\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+sender@example\.\S*\s+refused@example\.", RegexOptions.Multiline), result.Output);
        Assert.Matches(new Regex(@"^emailrelay\.32046\.1795422460\.1\s+Ready\s", RegexOptions.Multiline), result.Output);
    }

    [Fact]
    public void GetHelp_Examples_RendersTheModulesHelp()
    {
        RelayResult result = RelayProcess.Run("Get-Help", "Get-RelaySpool", "-Examples");

        Assert.Equal(0, result.ExitCode);
        Assert.Matches(new Regex(@"^SYNOPSIS\s*$", RegexOptions.Multiline), result.Output);
        Assert.Matches(new Regex(@"-+ Example 1: .+ -+", RegexOptions.Multiline), result.Output);
        Assert.Contains("Get-RelaySpool -SpoolPath", result.Output);
    }

    [Fact]
    public void Output_Redirected_HasNoEscapeSequencesAndFixedWidth()
    {
        RelayResult result = RelayProcess.Run("Get-Command -Module Relay; $Host.UI.RawUI.BufferSize.Width; Get-Command nothere");

        Assert.DoesNotContain("\u001b", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", result.Error, StringComparison.Ordinal);
        Assert.Matches(new Regex(@"^120$", RegexOptions.Multiline), result.Output);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("1", false)]
    public void Output_AtTerminal_ColoursUnlessNoColor(string noColor, bool isColoured)
    {
        string terminalMaker = RelayProcess.FindTerminalMaker(_log);
        if (terminalMaker == null)
        {
            return;
        }

        var environment = new Dictionary<string, string> { ["NO_COLOR"] = noColor };
        using RelayProcess relay = RelayProcess.StartInTerminal(terminalMaker, ["Get-Command -Module Relay"], environment);
        int exitCode = relay.WaitForExit(RelayProcess.DefaultTimeout);

        Assert.Equal(0, exitCode);
        Assert.Contains("Get-RelaySpool", relay.Output);
        Assert.Equal(isColoured, relay.Output.Contains(TableHeaderStyle, StringComparison.Ordinal));
    }

    [Fact]
    public void DiagnosticStreams_WarningVerboseDebug_GoToStderrWithPrefixes()
    {
        const string Script = "& { [CmdletBinding()] param() $PSCmdlet.WriteWarning('careful'); $PSCmdlet.WriteVerbose('detail'); " +
            "$DebugPreference = 'Continue'; $PSCmdlet.WriteDebug('internals'); 'result' } -Verbose";

        RelayResult result = RelayProcess.Run(Script);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("result\n", result.Output);
        Assert.Equal("WARNING: careful\nVERBOSE: detail\nDEBUG: internals\n", result.Error);
    }

    [Fact]
    public void HostAndInformation_WriteLineAndWriteInformation_GoToStdout()
    {
        const string Script = "& { [CmdletBinding()] param() $Host.UI.WriteLine('from host'); " +
            "$PSCmdlet.WriteInformation('from information', [string[]]@()) } -InformationAction Continue";

        RelayResult result = RelayProcess.Run(Script);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("from host\nfrom information\n", result.Output);
        Assert.Equal("", result.Error);
    }

    [Fact]
    public void Progress_Redirected_IsNotShown()
    {
        RelayResult result = RelayProcess.Run(ProgressScript);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("done\n", result.Output);
        Assert.Equal("", result.Error);
    }

    [Fact]
    public void Progress_AtTerminal_DrawnThenErasedBeforeOutput()
    {
        string terminalMaker = RelayProcess.FindTerminalMaker(_log);
        if (terminalMaker == null)
        {
            return;
        }

        using RelayProcess relay = RelayProcess.StartInTerminal(terminalMaker, [ProgressScript]);
        int exitCode = relay.WaitForExit(RelayProcess.DefaultTimeout);

        Assert.Equal(0, exitCode);
        Assert.Contains("\r\u001b[KCopying: half way [50%]\r\u001b[Kdone", relay.Output, StringComparison.Ordinal);
    }
}
