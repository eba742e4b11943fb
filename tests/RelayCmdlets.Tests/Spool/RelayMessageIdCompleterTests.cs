// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using Xunit;

namespace RelayCmdlets.Tests.Spool;

public sealed class RelayMessageIdCompleterTests : IClassFixture<ModuleRunspace>
{
    private readonly ModuleRunspace _shell;

    public RelayMessageIdCompleterTests(ModuleRunspace shell) => _shell = shell;

    [Theory]
    [InlineData("Get-RelaySpool")]
    [InlineData("Remove-RelayMessage")]
    [InlineData("Reset-RelayBadMessage")]
    public void TabAfterIdPrefix_CompletesTheIdsOfTheGivenSpool(string command)
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();
        string line = command + " -SpoolPath '" + spool.Path + "' -Id emailrelay.3205";

        PipelineResult result = Complete(line);

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { TestSpool.BadMessageId }, result.OutputOf<string>());
    }

    [Fact]
    public void TabWithMissingSpool_OffersNothingAndWritesNoError()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        string line = "Get-RelaySpool -SpoolPath '" + spool.File("missing") + "' -Id emailrelay.";

        PipelineResult result = Complete(line);

        Assert.Empty(result.Errors);
        Assert.Empty(result.Output);
    }

    private PipelineResult Complete(string line) => _shell.Invoke(
        "(TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches | ForEach-Object CompletionText",
        ("line", line));
}
