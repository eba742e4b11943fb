// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Linq;
using Xunit;

namespace RelayCmdlets.Tests.Spool;

public sealed class ResetRelayBadMessageTests : IClassFixture<ModuleRunspace>
{
    private readonly ModuleRunspace _shell;

    public ResetRelayBadMessageTests(ModuleRunspace shell) => _shell = shell;

    [Fact]
    public void MaxRetriesEqualToReasonCount_SkipsTheMessageAndSaysWhy()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke("Get-RelaySpool -SpoolPath $spool -State Bad | Reset-RelayBadMessage -MaxRetries 2 -PassThru -Verbose", ("spool", spool.Path));

        Assert.Empty(result.Errors);
        Assert.Empty(result.Output);
        Assert.True(File.Exists(spool.File(TestSpool.BadMessageId + ".envelope.bad")));
        Assert.Contains(result.Verbose, line => line.Contains(TestSpool.BadMessageId, System.StringComparison.Ordinal) && line.Contains("2 times", System.StringComparison.Ordinal));
    }

    [Fact]
    public void MaxRetriesAboveReasonCount_ResetsToReadyKeepingTheReasons()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();
        string badEnvelope = File.ReadAllText(spool.File(TestSpool.BadMessageId + ".envelope.bad"));

        PipelineResult result = _shell.Invoke("Get-RelaySpool -SpoolPath $spool -State Bad | Reset-RelayBadMessage -MaxRetries 3", ("spool", spool.Path));

        Assert.Empty(result.Errors);
        Assert.False(File.Exists(spool.File(TestSpool.BadMessageId + ".envelope.bad")));
        Assert.Equal(badEnvelope, File.ReadAllText(spool.File(TestSpool.BadMessageId + ".envelope")));
    }

    [Fact]
    public void NoInput_ResetsEveryBadMessageOfTheSpool()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke("Reset-RelayBadMessage -SpoolPath $spool -PassThru | ForEach-Object { '{0} {1}' -f $_.Id, $_.State }", ("spool", spool.Path));

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { TestSpool.BadMessageId + " Ready" }, result.OutputOf<string>());
        Assert.Empty(Directory.GetFiles(spool.Path, "*.bad"));
    }

    [Fact]
    public void WholeSpoolPiped_ResetsOnlyBadMessagesAndSkipsTheRestVerbosely()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke("Get-RelaySpool -SpoolPath $spool | Reset-RelayBadMessage -PassThru -Verbose | ForEach-Object Id", ("spool", spool.Path));

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { TestSpool.BadMessageId }, result.OutputOf<string>());
        Assert.Equal(5, result.Verbose.Count(line => line.Contains("not Bad", System.StringComparison.Ordinal)));
    }

    [Fact]
    public void ById_WithWhatIf_LeavesTheMessageBadAndNamesIt()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke("Reset-RelayBadMessage -Id $bad -SpoolPath $spool -WhatIf", ("spool", spool.Path), ("bad", TestSpool.BadMessageId));

        Assert.Empty(result.Errors);
        Assert.True(File.Exists(spool.File(TestSpool.BadMessageId + ".envelope.bad")));
        Assert.Contains(result.HostLines, line => line.Contains(TestSpool.BadMessageId + " (" + spool.File(TestSpool.BadMessageId + ".envelope.bad") + ")", System.StringComparison.Ordinal));
    }

    [Fact]
    public void ByUnknownId_WritesRelayMessageNotFound()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke("Reset-RelayBadMessage -Id emailrelay.9.9.9 -SpoolPath $spool", ("spool", spool.Path));

        Assert.Equal(new[] { "RelayMessageNotFound,RelayCmdlets.ResetRelayBadMessageCommand" }, result.ErrorIds);
    }

    [Theory]
    [InlineData("Reset-RelayBadMessage -MaxRetries 0", "ParameterArgumentValidationError,RelayCmdlets.ResetRelayBadMessageCommand")]
    [InlineData("Reset-RelayBadMessage -MaxRetries -1", "ParameterArgumentValidationError,RelayCmdlets.ResetRelayBadMessageCommand")]
    [InlineData("Reset-RelayBadMessage -Id ''", "ParameterArgumentValidationError,RelayCmdlets.ResetRelayBadMessageCommand")]
    public void InvalidArgument_IsParameterBindingError(string script, string errorId)
    {
        PipelineResult result = _shell.Invoke(script);

        Assert.Equal(new[] { errorId }, result.ErrorIds);
    }
}
