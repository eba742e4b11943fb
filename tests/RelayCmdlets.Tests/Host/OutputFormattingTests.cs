// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Xunit;

namespace RelayCmdlets.Tests.Host;

/// <summary>relay formats objects through Out-Default as a shell does, and sends each stream where it belongs.</summary>
public sealed class OutputFormattingTests : System.IDisposable
{
    private readonly TempFolder _folder = new TempFolder();

    public void Dispose() => _folder.Dispose();

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
        string spool = CopyEmailRelaySpool();

        RelayResult result = RelayProcess.Run("Get-RelaySpool", "-SpoolPath", spool);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(new Regex(@"^Id\s+State\s+Received\s+From\s+To\s+Size", RegexOptions.Multiline), result.Output);
        Assert.Matches(new Regex(@"^emailrelay\.32054\.1795422460\.1\s+Bad\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+sender@example\.\S*\s+refused@example\.", RegexOptions.Multiline), result.Output);
        Assert.Matches(new Regex(@"^emailrelay\.32046\.1795422460\.1\s+Ready\s", RegexOptions.Multiline), result.Output);
    }

    [Fact]
    public void Output_Redirected_HasNoEscapeSequencesAndFixedWidth()
    {
        RelayResult result = RelayProcess.Run("Get-Command -Module Relay; $Host.UI.RawUI.BufferSize.Width; Get-Command nothere");

        Assert.DoesNotContain("\u001b", result.Output, System.StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", result.Error, System.StringComparison.Ordinal);
        Assert.Matches(new Regex(@"^120$", RegexOptions.Multiline), result.Output);
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
        const string Script = "& { [CmdletBinding()] param() " +
            "$PSCmdlet.WriteProgress([System.Management.Automation.ProgressRecord]::new(1, 'Copying', 'half way')); 'done' }";

        RelayResult result = RelayProcess.Run(Script);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("done\n", result.Output);
        Assert.Equal("", result.Error);
    }

    private string CopyEmailRelaySpool([CallerFilePath] string sourceFile = "")
    {
        string source = Path.Combine(Path.GetDirectoryName(sourceFile), "..", "..", "RelayCore.Tests", "Spool", "TestData", "emailrelay-2.6b");
        string spool = Path.Combine(_folder.Path, "spool");
        Directory.CreateDirectory(spool);
        foreach (string file in Directory.GetFiles(source, "emailrelay.*"))
        {
            File.Copy(file, Path.Combine(spool, Path.GetFileName(file)));
        }

        return spool;
    }
}
