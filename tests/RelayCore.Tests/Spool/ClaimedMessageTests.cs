// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Spool;
using Xunit;

namespace RelayCore.Tests.Spool;

public sealed class ClaimedMessageTests
{
    private const string Content = "Subject: some\r\n\r\nbody\r\n";

    [Fact]
    public async Task CompleteForSome_TwoOfThreeAccepted_BadMessageHoldsOnlyTheRefusedRecipient()
    {
        using var temp = new TempSpool();
        RelayMessage message = await CommitToThreeAsync(temp);
        ClaimedMessage claim = temp.Spool.TryClaim(message);

        RelayMessage bad = claim.CompleteForSome(new[] { "carol@example.net" }, "550 no such user", 550);

        Assert.Equal(RelayMessageState.Bad, bad.State);
        RelayMessage reread = temp.Spool.Get(message.Id);
        Assert.Equal(RelayMessageState.Bad, reread.State);
        Assert.Equal(new[] { "carol@example.net" }, reread.To);
        Assert.Equal("550 no such user", reread.Reason);
        Assert.Equal(550, reread.ReasonCode);
        Assert.Equal(1, reread.RetryCount);
        Assert.Equal(Content, File.ReadAllText(reread.ContentPath));
        Assert.Equal(new[] { reread.EnvelopePath }, Directory.GetFiles(temp.Path, "*.envelope*"));
    }

    [Fact]
    public async Task CompleteForSome_Settled_ClaimCannotBeSettledAgain()
    {
        using var temp = new TempSpool();
        RelayMessage message = await CommitToThreeAsync(temp);
        ClaimedMessage claim = temp.Spool.TryClaim(message);

        claim.CompleteForSome(new[] { "bob@example.net" }, "refused", 550);

        Assert.True(claim.IsSettled);
        Assert.Throws<System.InvalidOperationException>(() => claim.Complete());
    }

    [Fact]
    public async Task CompleteLater_BeforeTheRestRuns_EnvelopeIsGoneAndRecoveryLeavesTheHeldContent()
    {
        using var temp = new TempSpool();
        RelayMessage message = await temp.CommitAsync(Content);
        ClaimedMessage claim = temp.Spool.TryClaim(message);

        System.Action rest = claim.CompleteLater();
        claim.Dispose();
        (int returned, int removed) = temp.Spool.Recover(System.TimeSpan.Zero);

        Assert.True(claim.IsSettled);
        Assert.Equal((0, 0), (returned, removed));
        Assert.Throws<RelayMessageNotFoundException>(() => temp.Spool.Get(message.Id));
        Assert.Equal(new[] { message.ContentPath }, Directory.GetFiles(temp.Path));
        rest();
        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public async Task CompleteLater_DeletesRun_NextRecoveryFindsNothingAndTheIdIsFree()
    {
        using var temp = new TempSpool();
        RelayMessage message = await temp.CommitAsync(Content);
        ClaimedMessage claim = temp.Spool.TryClaim(message);

        claim.CompleteLater()();

        Assert.Equal((0, 0), temp.Spool.Recover(System.TimeSpan.Zero));
        Assert.Throws<RelayMessageNotFoundException>(() => temp.Spool.Get(message.Id));
    }

    private static async Task<RelayMessage> CommitToThreeAsync(TempSpool temp)
    {
        using IncomingMessage incoming = temp.Receive(Content, "alice@example.net");
        incoming.Envelope.ToRemote.Add("bob@example.net");
        incoming.Envelope.ToRemote.Add("carol@example.net");
        return await incoming.CommitAsync(CancellationToken.None);
    }
}
