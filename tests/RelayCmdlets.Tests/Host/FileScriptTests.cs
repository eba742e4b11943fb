// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using Xunit;

namespace RelayCmdlets.Tests.Host;

/// <summary>relay -File runs a script as pwsh -File does: arguments bind to param(), exit N ends relay with N.</summary>
public sealed class FileScriptTests : IDisposable
{
    private const string ParamScript =
        "param([string] $Name, [int] $Count = 1, [switch] $Loud)\n" +
        "\"Name=$Name Count=$Count Loud=$Loud Rest=$($args -join '|')\"\n";

    private readonly TempFolder _folder = new TempFolder();

    public void Dispose() => _folder.Dispose();

    [Theory]
    [InlineData(new[] { "-Name", "bob", "-Count", "2", "-Loud" }, "Name=bob Count=2 Loud=True Rest=")]
    [InlineData(new[] { "-Name:bob", "-Count:3", "-Loud:$false" }, "Name=bob Count=3 Loud=False Rest=")]
    [InlineData(new[] { "-Name:", "bob" }, "Name=bob Count=1 Loud=False Rest=")]
    [InlineData(new[] { "alice", "4" }, "Name=alice Count=4 Loud=False Rest=")]
    [InlineData(new[] { "-Name", "it's ‘quoted’ $(x)" }, "Name=it's ‘quoted’ $(x) Count=1 Loud=False Rest=")]
    public void File_Arguments_BindToParamBlock(string[] arguments, string expected)
    {
        string script = _folder.Write("params.ps1", ParamScript);

        RelayResult result = RelayProcess.Run(["-File", script, .. arguments]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(expected + "\n", result.Output);
    }

    [Fact]
    public void File_ExitThree_ExitsThree()
    {
        string script = _folder.Write("exit.ps1", "'before'\nexit 3\n'after'\n");

        RelayResult result = RelayProcess.Run("-File", script);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal("before\n", result.Output);
    }

    [Fact]
    public void File_ScriptRoot_IsTheScriptsFolder()
    {
        string script = _folder.Write("root.ps1", "$PSScriptRoot\n$PSCommandPath\n");

        RelayResult result = RelayProcess.Run("-File", script);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"{_folder.Path}\n{script}\n", result.Output);
    }

    [Fact]
    public void File_ThrowOnLineTwo_ExitsOneNamingFileAndLine()
    {
        string script = _folder.Write("fails.ps1", "'first'\nthrow 'second line failed'\n");

        RelayResult result = RelayProcess.Run("-File", script);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{script}:2", result.Error);
        Assert.Contains("second line failed", result.Error);
    }

    [Fact]
    public void File_SyntaxError_ExitsOneWithoutRunningAnything()
    {
        string script = _folder.Write("broken.ps1", "'ran'\n'x' +\n");

        RelayResult result = RelayProcess.Run("-File", script);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Output);
        Assert.StartsWith($"ParserError: {script}:2", result.Error);
    }

    [Fact]
    public void File_Missing_ExitsTwoWithUsage()
    {
        RelayResult result = RelayProcess.Run("-File", System.IO.Path.Combine(_folder.Path, "absent.ps1"));

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("absent.ps1' does not exist", result.Error);
    }
}
