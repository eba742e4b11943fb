// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Linq;
using System.Management.Automation;
using Xunit;

namespace RelayCmdlets.Tests.Spool;

public sealed class GetRelaySpoolTests : IClassFixture<ModuleRunspace>
{
    private readonly ModuleRunspace _shell;

    public GetRelaySpoolTests(ModuleRunspace shell) => _shell = shell;

    [Fact]
    public void EmailRelaySpool_NoFilter_EmitsOneObjectPerMessage()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke("Get-RelaySpool -SpoolPath $spool | ForEach-Object Id", ("spool", spool.Path));

        Assert.Empty(result.Errors);
        Assert.Equal(
            new[]
            {
                "emailrelay.32046.1795422460.1", "emailrelay.32046.1795422460.2", "emailrelay.32046.1795422460.3",
                "emailrelay.32046.1795422460.4", TestSpool.BadMessageId, TestSpool.SubmittedMessageId,
            },
            result.OutputOf<string>());
    }

    [Fact]
    public void EmailRelaySpool_StateBad_EmitsTheFailedMessageWithItsReasons()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke(
            "Get-RelaySpool -SpoolPath $spool -State Bad | ForEach-Object { '{0} {1} {2} {3} {4}' -f $_.Id, $_.State, $_.RetryCount, $_.ReasonCode, $_.Reason }",
            ("spool", spool.Path));

        Assert.Equal(new[] { TestSpool.BadMessageId + " Bad 2 250 one or more recipients rejected" }, result.OutputOf<string>());
    }

    [Fact]
    public void EmailRelaySpool_AuthenticatedMessage_HasEnvelopeFields()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke(
            "Get-RelaySpool -SpoolPath $spool -Id emailrelay.32046.1795422460.2 | ForEach-Object { '{0}|{1}|{2}|{3}' -f $_.From, ($_.To -join ','), $_.AuthenticatedAs, $_.Client }",
            ("spool", spool.Path));

        Assert.Equal(new[] { "alice@example.com|bob@example.net,carol@example.org,dave@example.org|alice|127.0.0.1" }, result.OutputOf<string>());
    }

    [Fact]
    public void IdWildcard_MatchesSeveral_EmitsOnlyThose()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke("Get-RelaySpool -SpoolPath $spool -Id 'emailrelay.32046.*', '*.32064.*' | ForEach-Object Id", ("spool", spool.Path));

        Assert.Empty(result.Errors);
        Assert.Equal(5, result.Output.Count);
        Assert.Contains(TestSpool.SubmittedMessageId, result.OutputOf<string>());
    }

    [Fact]
    public void IdWithoutWildcard_MatchesNothing_WritesNonTerminatingRelayMessageNotFound()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke("Get-RelaySpool -SpoolPath $spool -Id emailrelay.1.2.3, $bad | ForEach-Object Id", ("spool", spool.Path), ("bad", TestSpool.BadMessageId));

        Assert.Equal(new[] { "RelayMessageNotFound,RelayCmdlets.GetRelaySpoolCommand" }, result.ErrorIds);
        Assert.Equal("emailrelay.1.2.3", result.Errors[0].TargetObject);
        Assert.Equal(ErrorCategory.ObjectNotFound, result.Errors[0].CategoryInfo.Category);
        Assert.Equal(new[] { TestSpool.BadMessageId }, result.OutputOf<string>());
    }

    [Fact]
    public void WildcardId_MatchesNothing_WritesNoError()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke("Get-RelaySpool -SpoolPath $spool -Id 'nothing*'", ("spool", spool.Path));

        Assert.Empty(result.Errors);
        Assert.Empty(result.Output);
    }

    [Fact]
    public void MissingSpool_IsTerminatingSpoolNotFound()
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke(
            "try { Get-RelaySpool -SpoolPath $missing; 'not stopped' } catch { $_.FullyQualifiedErrorId; $_.TargetObject }",
            ("missing", spool.File("missing")));

        Assert.Equal(new[] { "SpoolNotFound,RelayCmdlets.GetRelaySpoolCommand", spool.File("missing") }, result.OutputOf<string>());
    }

    [Fact]
    public void RelativeSpoolPath_ResolvesAgainstCurrentLocation()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke(
            "$null = $ExecutionContext.SessionState.Path.SetLocation($parent); Get-RelaySpool -SpoolPath $leaf -State Bad | ForEach-Object SpoolPath",
            ("parent", System.IO.Path.GetDirectoryName(spool.Path)), ("leaf", System.IO.Path.GetFileName(spool.Path)));

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { spool.Path }, result.OutputOf<string>());
    }

    [Fact]
    public void PipedObjectsWithIdAndSpoolPath_BindByPropertyName()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke(
            "[pscustomobject]@{ Id = $bad; SpoolPath = $spool } | Get-RelaySpool | ForEach-Object State",
            ("spool", spool.Path), ("bad", TestSpool.BadMessageId));

        Assert.Empty(result.Errors);
        Assert.Equal("Bad", result.Output.Single().ToString());
    }

    [Theory]
    [InlineData("Get-RelaySpool -Id ''", "ParameterArgumentValidationError,RelayCmdlets.GetRelaySpoolCommand")]
    [InlineData("Get-RelaySpool -SpoolPath ''", "ParameterArgumentValidationError,RelayCmdlets.GetRelaySpoolCommand")]
    [InlineData("Get-RelaySpool -State Lost", "CannotConvertArgumentNoMessage,RelayCmdlets.GetRelaySpoolCommand")]
    public void InvalidArgument_IsParameterBindingError(string script, string errorId)
    {
        PipelineResult result = _shell.Invoke(script);

        Assert.Equal(new[] { errorId }, result.ErrorIds);
    }
}
