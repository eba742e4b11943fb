// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using Xunit;

namespace RelayCmdlets.Tests.Host;

/// <summary>relay's exit code tells a calling script whether the command worked, as pwsh -Command's does.</summary>
public sealed class ExitCodeTests
{
    [Fact]
    public void UnknownCommand_NonTerminatingError_ExitsOneWithErrorOnStderr()
    {
        RelayResult result = RelayProcess.Run("Get-Command", "nothere;", "'after'");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("after\n", result.Output);
        Assert.StartsWith("Get-Command: The term 'nothere' is not recognized", result.Error);
    }

    [Fact]
    public void ErrorInsideScriptBlock_NonTerminatingError_ExitsOne()
    {
        RelayResult result = RelayProcess.Run("& { Get-Command nothere }");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("nothere", result.Error);
    }

    [Fact]
    public void Throw_TerminatingError_ExitsOneWithConciseErrorOnStderr()
    {
        RelayResult result = RelayProcess.Run("'before'; throw 'boom'; 'never'");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("before\n", result.Output);
        Assert.Equal("Exception: boom\n", result.Error);
    }

    [Fact]
    public void IncompleteCommand_ParseError_ExitsOneWithPositionOnStderr()
    {
        RelayResult result = RelayProcess.Run("'x' +");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Output);
        Assert.StartsWith("ParserError:", result.Error);
        Assert.Contains("You must provide a value expression following the '+' operator.", result.Error);
    }

    [Theory]
    [InlineData("try { Get-Command nothere -ErrorAction Stop } catch { 'handled' }")]
    [InlineData("Get-Command nothere -ErrorAction SilentlyContinue; 'handled'")]
    public void HandledError_CaughtOrSilenced_ExitsZero(string command)
    {
        RelayResult result = RelayProcess.Run(command);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("handled\n", result.Output);
        Assert.Equal("", result.Error);
    }

    [Theory]
    [InlineData("exit 7", 7)]
    [InlineData("'out'; exit 0", 0)]
    [InlineData("Get-Command nothere; exit 0", 0)]
    public void Exit_InCommand_ExitsWithItsCode(string command, int expected)
    {
        RelayResult result = RelayProcess.Run(command);

        Assert.Equal(expected, result.ExitCode);
    }
}
