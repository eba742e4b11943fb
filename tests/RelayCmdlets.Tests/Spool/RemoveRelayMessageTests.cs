// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Linq;
using System.Management.Automation;
using Xunit;

namespace RelayCmdlets.Tests.Spool;

public sealed class RemoveRelayMessageTests : IClassFixture<ModuleRunspace>
{
    private const string FromAlice = "Get-RelaySpool -SpoolPath $spool | Where-Object { $_.AuthenticatedAs -eq 'alice' } | ";

    private readonly ModuleRunspace _shell;

    public RemoveRelayMessageTests(ModuleRunspace shell) => _shell = shell;

    [Fact]
    public void PipelineWithWhatIf_RemovesNothingAndNamesEachIdAndPath()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();
        int filesBefore = Directory.GetFiles(spool.Path).Length;

        PipelineResult result = _shell.Invoke(FromAlice + "Remove-RelayMessage -WhatIf", ("spool", spool.Path));

        Assert.Empty(result.Errors);
        Assert.Equal(filesBefore, Directory.GetFiles(spool.Path).Length);
        Assert.Equal(4, result.HostLines.Count);
        Assert.Contains(
            result.HostLines,
            line => line.StartsWith("What if: ", System.StringComparison.Ordinal) &&
                    line.Contains("emailrelay.32046.1795422460.2 (" + spool.File("emailrelay.32046.1795422460.2.envelope") + ")", System.StringComparison.Ordinal));
    }

    [Fact]
    public void PipelineForReal_RemovesOnlyTheSelectedMessagesBothFiles()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke(FromAlice + "Remove-RelayMessage -Confirm:$false", ("spool", spool.Path));

        Assert.Empty(result.Errors);
        Assert.Empty(result.Output);
        Assert.Equal(
            new[]
            {
                TestSpool.BadMessageId + ".content", TestSpool.BadMessageId + ".envelope.bad",
                TestSpool.SubmittedMessageId + ".content", TestSpool.SubmittedMessageId + ".envelope",
            },
            Directory.GetFiles(spool.Path).Select(Path.GetFileName).OrderBy(name => name, System.StringComparer.Ordinal));
    }

    [Fact]
    public void ByIdWithUnknownId_WritesRelayMessageNotFoundAndRemovesTheRest()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke(
            "Remove-RelayMessage -Id emailrelay.9.9.9, $bad -SpoolPath $spool -Confirm:$false",
            ("spool", spool.Path), ("bad", TestSpool.BadMessageId));

        Assert.Equal(new[] { "RelayMessageNotFound,RelayCmdlets.RemoveRelayMessageCommand" }, result.ErrorIds);
        Assert.Equal("emailrelay.9.9.9", result.Errors[0].TargetObject);
        Assert.False(File.Exists(spool.File(TestSpool.BadMessageId + ".content")));
    }

    [Fact]
    public void BusyMessage_WritesRelayMessageBusyAndGoesOn()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();
        string busyEnvelope = spool.File(TestSpool.SubmittedMessageId + ".envelope.busy");
        File.Move(spool.File(TestSpool.SubmittedMessageId + ".envelope"), busyEnvelope);

        PipelineResult result = _shell.Invoke(
            "Remove-RelayMessage -Id $busy, $bad -SpoolPath $spool -Confirm:$false",
            ("spool", spool.Path), ("busy", TestSpool.SubmittedMessageId), ("bad", TestSpool.BadMessageId));

        Assert.Equal(new[] { "RelayMessageBusy,RelayCmdlets.RemoveRelayMessageCommand" }, result.ErrorIds);
        Assert.Equal(ErrorCategory.ResourceBusy, result.Errors[0].CategoryInfo.Category);
        Assert.True(File.Exists(busyEnvelope));
        Assert.False(File.Exists(spool.File(TestSpool.BadMessageId + ".envelope.bad")));
    }

    [Fact]
    public void MessageClaimedAfterItWasListed_WritesRelayMessageBusyAndKeepsFiles()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke(
            "$message = Get-RelaySpool -SpoolPath $spool -Id $id; [System.IO.File]::Move($message.EnvelopePath, $message.EnvelopePath + '.busy'); " +
            "$message | Remove-RelayMessage -Confirm:$false",
            ("spool", spool.Path), ("id", TestSpool.SubmittedMessageId));

        Assert.Equal(new[] { "RelayMessageBusy,RelayCmdlets.RemoveRelayMessageCommand" }, result.ErrorIds);
        Assert.True(File.Exists(spool.File(TestSpool.SubmittedMessageId + ".content")));
        Assert.True(File.Exists(spool.File(TestSpool.SubmittedMessageId + ".envelope.busy")));
    }

    [Fact]
    public void ConfirmImpact_IsHigh_BecauseRemovalCannotBeUndone()
    {
        PipelineResult result = _shell.Invoke("(Get-Command Remove-RelayMessage).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false).ConfirmImpact.ToString()");

        Assert.Equal("High", result.Output.Single().ToString());
    }

    [Fact]
    public void NoConfirmFalse_InUnattendedHost_RemovesNothing()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke("Remove-RelayMessage -Id $bad -SpoolPath $spool", ("spool", spool.Path), ("bad", TestSpool.BadMessageId));

        Assert.NotEmpty(result.Errors);
        Assert.True(File.Exists(spool.File(TestSpool.BadMessageId + ".envelope.bad")));
    }

    [Theory]
    [InlineData("Remove-RelayMessage -Id '' -Confirm:$false", "ParameterArgumentValidationError,RelayCmdlets.RemoveRelayMessageCommand")]
    [InlineData("Remove-RelayMessage -InputObject $null -Confirm:$false", "ParameterArgumentValidationError,RelayCmdlets.RemoveRelayMessageCommand")]
    [InlineData("Remove-RelayMessage -InputObject 'text' -Confirm:$false", "CannotConvertArgumentNoMessage,RelayCmdlets.RemoveRelayMessageCommand")]
    public void InvalidArgument_IsParameterBindingError(string script, string errorId)
    {
        PipelineResult result = _shell.Invoke(script);

        Assert.Equal(new[] { errorId }, result.ErrorIds);
    }
}
