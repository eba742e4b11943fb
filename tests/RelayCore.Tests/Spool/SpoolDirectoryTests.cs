// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Spool;
using Xunit;

namespace RelayCore.Tests.Spool;

public sealed class SpoolDirectoryTests
{
    private const string ReadyEnvelope =
        "X-MailRelay-Format: #2821.8\r\nX-MailRelay-Content: 7bit\r\nX-MailRelay-From: a@example.com\r\n" +
        "X-MailRelay-ToCount: 1\r\nX-MailRelay-To-Remote: b@example.net\r\nX-MailRelay-End: 1\r\n";

    [Fact]
    public async Task CommitAsync_OneMessage_ReadyEnvelopeAndContentAndNoNewFile()
    {
        using var temp = new TempSpool();

        RelayMessage message = await temp.CommitAsync("Subject: x\r\n\r\nbody\r\n");

        Assert.Equal(RelayMessageState.Ready, message.State);
        Assert.True(File.Exists(message.EnvelopePath));
        Assert.Equal("Subject: x\r\n\r\nbody\r\n", File.ReadAllText(message.ContentPath));
        Assert.Empty(Directory.GetFiles(temp.Path, "*.new"));
        Assert.Matches(@"^emailrelay\.\d+\.\d+\.\d+$", message.Id);
    }

    [Fact]
    public async Task CommitAsync_200Concurrent_AllReadyWithContentAndGrouped()
    {
        using var temp = new TempSpool();
        long syncsBefore = temp.Spool.Committer.SyncCount;

        // Every receipt is written first and the commits are queued back to back, as 200 sessions
        // finishing DATA together would: the committer must serve them with fewer syncs than two each.
        IncomingMessage[] receipts = Enumerable.Range(0, 200).Select(i => temp.Receive("Subject: " + i + "\r\n\r\nbody " + i + "\r\n")).ToArray();
        Task<RelayMessage>[] commits = receipts.Select(receipt => receipt.CommitAsync(CancellationToken.None)).ToArray();
        RelayMessage[] messages = await Task.WhenAll(commits);
        Array.ForEach(receipts, receipt => receipt.Dispose());

        Assert.Equal(200, messages.Select(m => m.Id).Distinct().Count());
        Assert.Equal(200, Directory.GetFiles(temp.Path, "*.envelope").Length);
        Assert.Equal(200, Directory.GetFiles(temp.Path, "*.content").Length);
        Assert.Empty(Directory.GetFiles(temp.Path, "*.new"));
        Assert.All(Enumerable.Range(0, 200), i => Assert.Equal("Subject: " + i + "\r\n\r\nbody " + i + "\r\n", File.ReadAllText(messages[i].ContentPath)));
        Assert.True(temp.Spool.Committer.SyncCount - syncsBefore < 400, "expected grouped syncs, got " + (temp.Spool.Committer.SyncCount - syncsBefore));
    }

    [Fact]
    public async Task CommitAsync_EnvelopeWritten_ReadsBackAsCommitted()
    {
        using var temp = new TempSpool();

        RelayMessage committed = await temp.CommitAsync("Subject: x\r\n\r\n.\r\n", to: "carol@example.org");
        RelayMessage read = temp.Spool.Get(committed.Id);

        Assert.Equal(new[] { "carol@example.org" }, read.To);
        Assert.Equal("alice@example.com", read.From);
        Assert.Equal(committed.Size, read.Size);
        Assert.Equal(committed.Received, read.Received);
    }

    [Fact]
    public void Dispose_Uncommitted_DeletesBothFiles()
    {
        using var temp = new TempSpool();
        IncomingMessage incoming = temp.Spool.CreateMessage();
        incoming.Content.Write(new byte[] { 65, 66 }, 0, 2);

        incoming.Dispose();

        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public async Task CommitAsync_CancelledBeforeStart_ThrowsAndLeavesNoReadyMessage()
    {
        using var temp = new TempSpool();
        using IncomingMessage incoming = temp.Spool.CreateMessage();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => incoming.CommitAsync(cancelled.Token));

        Assert.Empty(Directory.GetFiles(temp.Path, "*.envelope"));
    }

    [Fact]
    public async Task Find_MixedStates_FiltersByStateAndWildcardOldestFirst()
    {
        using var temp = new TempSpool();
        temp.WriteFiles("emailrelay.10.1700000002.1", RelayMessageState.Ready, ReadyEnvelope, "b");
        temp.WriteFiles("emailrelay.9.1700000001.1", RelayMessageState.Bad, ReadyEnvelope, "a");
        RelayMessage fresh = await temp.CommitAsync("c");

        List<RelayMessage> ready = temp.Spool.Find(null, new[] { RelayMessageState.Ready }).ToList();
        List<RelayMessage> all = temp.Spool.Find(new[] { "emailrelay.*.17000000??.1" }, null).ToList();

        Assert.Equal(new[] { "emailrelay.10.1700000002.1", fresh.Id }, ready.Select(m => m.Id));
        Assert.Equal(new[] { "emailrelay.9.1700000001.1", "emailrelay.10.1700000002.1" }, all.Select(m => m.Id));
    }

    [Fact]
    public void Find_CorruptEnvelope_SkippedWhileGetThrowsInvalidData()
    {
        using var temp = new TempSpool();
        temp.WriteFiles("emailrelay.1.1700000000.1", RelayMessageState.Ready, "garbage\r\n", "x");

        Assert.Empty(temp.Spool.Find(null, null));
        Assert.Throws<InvalidDataException>(() => temp.Spool.Get("emailrelay.1.1700000000.1"));
    }

    [Fact]
    public void Find_RealEmailRelaySpool_EveryMessageWithStateAndRetryCount()
    {
        using var temp = new TempSpool();
        foreach (string file in Directory.GetFiles(TempSpool.EmailRelayDataDirectory(), "emailrelay.*"))
        {
            File.Copy(file, temp.FilePath(Path.GetFileName(file)));
        }

        List<RelayMessage> messages = temp.Spool.Find(null, null).ToList();

        Assert.Equal(6, messages.Count);
        RelayMessage bad = Assert.Single(messages, m => m.State == RelayMessageState.Bad);
        Assert.Equal("emailrelay.32054.1795422460.1", bad.Id);
        Assert.Equal(2, bad.RetryCount);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1795422460), bad.Received);
        Assert.Equal(52, bad.Size);
    }

    [Fact]
    public async Task TryClaim_TwoClaimers_ExactlyOneWins()
    {
        using var temp = new TempSpool();
        RelayMessage message = await temp.CommitAsync("x");

        using ClaimedMessage first = temp.Spool.TryClaim(message);
        ClaimedMessage second = temp.Spool.TryClaim(message);

        Assert.NotNull(first);
        Assert.Null(second);
        Assert.Equal(RelayMessageState.Busy, first.Message.State);
        Assert.True(File.Exists(temp.FilePath(message.Id + ".envelope.busy")));
    }

    [Fact]
    public void TryClaim_MessageWrittenAnHourAgo_ClaimTimeIsNow()
    {
        using var temp = new TempSpool();
        temp.WriteFiles("emailrelay.1.1700000000.1", RelayMessageState.Ready, ReadyEnvelope, "x");
        File.SetLastWriteTimeUtc(temp.FilePath("emailrelay.1.1700000000.1.envelope"), DateTime.UtcNow.AddHours(-1));

        using ClaimedMessage claim = temp.Spool.TryClaim(temp.Spool.Get("emailrelay.1.1700000000.1"));

        Assert.True(DateTime.UtcNow - File.GetLastWriteTimeUtc(claim.Message.EnvelopePath) < TimeSpan.FromMinutes(1));
    }

    [Fact]
    public async Task TryClaim_ManyThreadsRacing_OneWinnerPerMessage()
    {
        using var temp = new TempSpool();
        RelayMessage[] messages = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => temp.CommitAsync("m" + i)));
        var winners = new ConcurrentBag<string>();

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            foreach (RelayMessage message in messages)
            {
                ClaimedMessage claim = temp.Spool.TryClaim(message);
                if (claim != null)
                {
                    winners.Add(claim.Message.Id);
                    claim.Complete();
                }
            }
        })));

        Assert.Equal(messages.Select(m => m.Id).OrderBy(id => id), winners.OrderBy(id => id));
        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public async Task Remove_RacingAClaim_ExactlyOneWinsAndNothingHalfDeleted()
    {
        using var temp = new TempSpool();
        RelayMessage message = await temp.CommitAsync("x");

        using ClaimedMessage claim = temp.Spool.TryClaim(message);
        Assert.Throws<RelayMessageBusyException>(() => temp.Spool.Remove(message));

        Assert.True(File.Exists(claim.Message.EnvelopePath));
        Assert.True(File.Exists(message.ContentPath));
    }

    [Fact]
    public async Task Remove_ReadyMessage_BothFilesGoneAndLaterClaimFails()
    {
        using var temp = new TempSpool();
        RelayMessage message = await temp.CommitAsync("x");

        temp.Spool.Remove(message);

        Assert.Empty(Directory.GetFiles(temp.Path));
        Assert.Null(temp.Spool.TryClaim(message));
    }

    [Fact]
    public async Task Remove_BusyMessage_ThrowsBusy()
    {
        using var temp = new TempSpool();
        RelayMessage message = await temp.CommitAsync("x");
        using ClaimedMessage claim = temp.Spool.TryClaim(message);

        Assert.Throws<RelayMessageBusyException>(() => temp.Spool.Remove(claim.Message));
    }

    [Fact]
    public async Task MarkBad_ClaimedMessage_AppendsReasonPairAndRenamesToBad()
    {
        using var temp = new TempSpool();
        RelayMessage message = await temp.CommitAsync("x");
        byte[] before = File.ReadAllBytes(message.EnvelopePath);
        ClaimedMessage claim = temp.Spool.TryClaim(message);

        RelayMessage bad = claim.MarkBad("550 mailbox unavailable", 550);

        byte[] after = File.ReadAllBytes(temp.FilePath(message.Id + ".envelope.bad"));
        Assert.Equal(RelayMessageState.Bad, bad.State);
        Assert.Equal(before.Concat(Encoding.ASCII.GetBytes("X-MailRelay-Reason: 550 mailbox unavailable\r\nX-MailRelay-ReasonCode: 550\r\n")), after);
        Assert.Equal(1, temp.Spool.Get(message.Id).RetryCount);
        Assert.Equal(550, temp.Spool.Get(message.Id).ReasonCode);
    }

    [Fact]
    public void MarkBad_EnvelopeWithoutFinalLineEnd_ReasonStartsOnItsOwnLine()
    {
        using var temp = new TempSpool();
        temp.WriteFiles("emailrelay.1.1700000000.1", RelayMessageState.Ready, ReadyEnvelope.TrimEnd(), "x");
        ClaimedMessage claim = temp.Spool.TryClaim(temp.Spool.Get("emailrelay.1.1700000000.1"));

        claim.MarkBad("refused", null);

        RelayMessage bad = temp.Spool.Get("emailrelay.1.1700000000.1");
        Assert.Equal("refused", bad.Reason);
        Assert.Null(bad.ReasonCode);
    }

    [Fact]
    public async Task Release_ClaimedMessage_ReadyAgainAndClaimable()
    {
        using var temp = new TempSpool();
        RelayMessage message = await temp.CommitAsync("x");
        ClaimedMessage claim = temp.Spool.TryClaim(message);

        claim.Release();

        Assert.Equal(RelayMessageState.Ready, temp.Spool.Get(message.Id).State);
        Assert.NotNull(temp.Spool.TryClaim(message));
    }

    [Fact]
    public async Task Dispose_UnsettledClaim_Releases()
    {
        using var temp = new TempSpool();
        RelayMessage message = await temp.CommitAsync("x");

        temp.Spool.TryClaim(message).Dispose();

        Assert.Equal(RelayMessageState.Ready, temp.Spool.Get(message.Id).State);
    }

    [Fact]
    public async Task Complete_Twice_SecondThrowsInvalidOperation()
    {
        using var temp = new TempSpool();
        ClaimedMessage claim = temp.Spool.TryClaim(await temp.CommitAsync("x"));

        claim.Complete();

        Assert.Throws<InvalidOperationException>(() => claim.Complete());
    }

    [Fact]
    public void TryClaim_UnparsableEnvelope_MarkedBadAndReturnsNull()
    {
        using var temp = new TempSpool();
        temp.WriteFiles("emailrelay.1.1700000000.1", RelayMessageState.Ready, ReadyEnvelope, "x");
        RelayMessage message = temp.Spool.Get("emailrelay.1.1700000000.1");
        File.WriteAllText(message.EnvelopePath, "edited into garbage\r\n");

        ClaimedMessage claim = temp.Spool.TryClaim(message);

        Assert.Null(claim);
        Assert.True(File.Exists(temp.FilePath("emailrelay.1.1700000000.1.envelope.bad")));
    }

    [Theory]
    [InlineData(0, 5, true)]
    [InlineData(4, 5, true)]
    [InlineData(5, 5, false)]
    [InlineData(6, 5, false)]
    [InlineData(0, 0, false)]
    public void TryResetBad_ReasonCountAgainstLimit_ResetOnlyBelowLimit(int failures, int maxRetries, bool expectReset)
    {
        using var temp = new TempSpool();
        var envelope = Envelope.Parse(ReadyEnvelope);
        for (int i = 0; i < failures; i++)
        {
            envelope.AddReason("failure " + i, 451);
        }
        temp.WriteFiles("emailrelay.1.1700000000.1", RelayMessageState.Bad, envelope.ToText(), "x");
        RelayMessage bad = temp.Spool.Get("emailrelay.1.1700000000.1");

        bool reset = temp.Spool.TryResetBad(bad, maxRetries, out RelayMessage ready);

        Assert.Equal(expectReset, reset);
        Assert.Equal(expectReset ? RelayMessageState.Ready : RelayMessageState.Bad, temp.Spool.Get(bad.Id).State);
        Assert.Equal(expectReset, ready != null);
    }

    [Fact]
    public void ResetBad_AlreadyResetElsewhere_ThrowsBusy()
    {
        using var temp = new TempSpool();
        temp.WriteFiles("emailrelay.1.1700000000.1", RelayMessageState.Bad, ReadyEnvelope, "x");
        RelayMessage bad = temp.Spool.Get("emailrelay.1.1700000000.1");
        temp.Spool.ResetBad(bad);

        Assert.Throws<RelayMessageBusyException>(() => temp.Spool.ResetBad(bad));
    }

    [Fact]
    public void Recover_BusyOlderThanStaleAge_ReturnedToReady()
    {
        using var temp = new TempSpool();
        temp.WriteFiles("emailrelay.1.1700000000.1", RelayMessageState.Busy, ReadyEnvelope, "x");
        File.SetLastWriteTimeUtc(temp.FilePath("emailrelay.1.1700000000.1.envelope.busy"), DateTime.UtcNow.AddHours(-1));

        (int returned, int removed) = temp.Spool.Recover();

        Assert.Equal((1, 0), (returned, removed));
        Assert.Equal(RelayMessageState.Ready, temp.Spool.Get("emailrelay.1.1700000000.1").State);
    }

    [Fact]
    public void Recover_RecentBusyOfAnotherProcess_LeftAlone()
    {
        using var temp = new TempSpool();
        temp.WriteFiles("emailrelay.1.1700000000.1", RelayMessageState.Busy, ReadyEnvelope, "x");

        (int returned, int _) = temp.Spool.Recover();

        Assert.Equal(0, returned);
        Assert.Equal(RelayMessageState.Busy, temp.Spool.Get("emailrelay.1.1700000000.1").State);
    }

    [Fact]
    public async Task Recover_ClaimHeldByThisProcess_LeftAloneEvenWithZeroAge()
    {
        using var temp = new TempSpool();
        using ClaimedMessage claim = temp.Spool.TryClaim(await temp.CommitAsync("x"));

        (int returned, int removed) = temp.Spool.Recover(TimeSpan.Zero);

        Assert.Equal((0, 0), (returned, removed));
        Assert.True(File.Exists(claim.Message.EnvelopePath));
    }

    [Fact]
    public void Recover_NewReceiptOfDeadProcess_DeletedWithContent()
    {
        using var temp = new TempSpool();
        int deadPid = FindDeadPid();
        temp.WriteFiles("emailrelay." + deadPid + ".1700000000.1", RelayMessageState.New, string.Empty, "partial");

        (int returned, int removed) = temp.Spool.Recover();

        Assert.Equal((0, 1), (returned, removed));
        Assert.Empty(Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void Recover_RecentNewReceiptOfLiveProcess_LeftAlone()
    {
        using var temp = new TempSpool();
        using var other = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sleep", "30") { UseShellExecute = false });
        try
        {
            temp.WriteFiles("emailrelay." + other.Id + ".1700000000.1", RelayMessageState.New, string.Empty, "partial");

            (int _, int removed) = temp.Spool.Recover();

            Assert.Equal(0, removed);
            Assert.Equal(2, Directory.GetFiles(temp.Path).Length);
        }
        finally
        {
            other.Kill();
        }
    }

    [Fact]
    public void Recover_UnheldReceiptWithThisProcessId_DeletedAsPredecessors()
    {
        using var temp = new TempSpool();
        temp.WriteFiles("emailrelay." + Environment.ProcessId + ".1700000000.99999", RelayMessageState.New, string.Empty, "partial");

        (int _, int removed) = temp.Spool.Recover();

        Assert.Equal(1, removed);
    }

    [Fact]
    public void Recover_ReceiptInProgressHere_LeftAlone()
    {
        using var temp = new TempSpool();
        using IncomingMessage incoming = temp.Spool.CreateMessage();

        (int _, int removed) = temp.Spool.Recover(TimeSpan.Zero);

        Assert.Equal(0, removed);
        Assert.Equal(2, Directory.GetFiles(temp.Path).Length);
    }

    [Fact]
    public void Recover_OrphanedContent_DeletedWhenStale()
    {
        using var temp = new TempSpool();
        File.WriteAllText(temp.FilePath("emailrelay.1.1700000000.1.content"), "orphan");
        File.WriteAllText(temp.FilePath("emailrelay.1.1700000000.2.content"), "recent orphan");
        File.SetLastWriteTimeUtc(temp.FilePath("emailrelay.1.1700000000.1.content"), DateTime.UtcNow.AddHours(-1));

        (int _, int removed) = temp.Spool.Recover();

        Assert.Equal(1, removed);
        Assert.Equal(new[] { temp.FilePath("emailrelay.1.1700000000.2.content") }, Directory.GetFiles(temp.Path));
    }

    private static int FindDeadPid()
    {
        for (int pid = 4_000_000; pid > 3_000_000; pid -= 7919)
        {
            if (!Directory.Exists("/proc/" + pid) && !IsRunning(pid))
            {
                return pid;
            }
        }
        throw new InvalidOperationException("No unused process id found.");
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
