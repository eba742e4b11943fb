// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Host;

/// <summary>Prompts need a person at a terminal: without one they fail at once instead of waiting for ever.</summary>
public sealed class PromptTests
{
    private readonly ITestOutputHelper _log;

    public PromptTests(ITestOutputHelper log)
    {
        _log = log;
    }

    private const string ConfirmedFunction =
        "function Remove-Thing { [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')] param() " +
        "if ($PSCmdlet.ShouldProcess('thing', 'Remove')) { 'removed' } else { 'kept' } }; ";

    [Fact]
    public void Confirm_StdinNotTerminal_FailsClearly()
    {
        RelayResult result = RelayProcess.Run(ConfirmedFunction + "Remove-Thing");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("", result.Output);
        Assert.Contains("relay cannot ask 'Confirm': standard input is not a terminal", result.Error);
    }

    [Fact]
    public void Confirm_NonInteractive_FailsClearly()
    {
        RelayResult result = RelayProcess.Run("-NonInteractive", ConfirmedFunction + "Remove-Thing");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("-NonInteractive was given", result.Error);
    }

    [Fact]
    public void Confirm_False_ProceedsWithoutPrompt()
    {
        RelayResult result = RelayProcess.Run(ConfirmedFunction + "Remove-Thing -Confirm:$false");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("removed\n", result.Output);
    }

    [Fact]
    public void WhatIf_PrintsWhatWouldHappen()
    {
        RelayResult result = RelayProcess.Run(ConfirmedFunction + "Remove-Thing -WhatIf");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("What if: Performing the operation \"Remove\" on target \"thing\".\nkept\n", result.Output);
    }

    [Theory]
    [InlineData("y", "removed")]
    [InlineData("N", "kept")]
    public void Confirm_AtTerminal_AsksAndFollowsTheAnswer(string answer, string expected)
    {
        string terminalMaker = RelayProcess.FindTerminalMaker(_log);
        if (terminalMaker == null)
        {
            return;
        }

        using RelayProcess relay = RelayProcess.StartInTerminal(terminalMaker, [ConfirmedFunction + "Remove-Thing -Confirm"]);
        relay.WaitForOutputText("[?] Help (default is \"Y\"): ", RelayProcess.DefaultTimeout);

        relay.WriteInput(answer + "\r");
        int exitCode = relay.WaitForExit(RelayProcess.DefaultTimeout);

        Assert.Equal(0, exitCode);
        Assert.Contains("Performing the operation \"Remove\" on target \"thing\".", relay.Output);
        Assert.Contains("\n" + expected + "\r\n", relay.Output);
    }
}
