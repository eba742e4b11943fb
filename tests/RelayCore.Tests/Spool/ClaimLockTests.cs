// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Threading.Tasks;
using RelayCore.Spool;
using Xunit;

namespace RelayCore.Tests.Spool;

public sealed class ClaimLockTests
{
    [Fact]
    public async Task Recover_ClaimHeldByThisProcess_LeftBusy()
    {
        using var temp = new TempSpool();
        RelayMessage message = await temp.CommitAsync("Subject: held\r\n\r\nx\r\n");
        using ClaimedMessage claim = temp.Spool.TryClaim(message);

        (int returned, int _) = temp.Spool.Recover(TimeSpan.Zero);

        Assert.Equal(0, returned);
        Assert.True(File.Exists(claim.Message.EnvelopePath));
    }

    [Fact]
    public void Test_RelayClaimOpenElsewhere_IsHeld()
    {
        using var temp = new TempSpool();
        string busy = StampedBusyFile(temp);
        using var holder = new FileStream(busy, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);

        ClaimLock.Probe probe = ClaimLock.Test(busy);

        Assert.Equal(ClaimLock.Probe.Held, probe);
    }

    [Fact]
    public void Test_RelayClaimNobodyHolds_IsAbandoned()
    {
        using var temp = new TempSpool();
        string busy = StampedBusyFile(temp);

        ClaimLock.Probe probe = ClaimLock.Test(busy);

        Assert.Equal(ClaimLock.Probe.Abandoned, probe);
    }

    [Fact]
    public void Test_ClaimWithoutRelaysStamp_IsJudgedByAge()
    {
        using var temp = new TempSpool();
        string busy = StampedBusyFile(temp);
        File.SetLastWriteTimeUtc(busy, new DateTime(2026, 11, 23, 10, 0, 0, DateTimeKind.Utc));

        ClaimLock.Probe probe = ClaimLock.Test(busy);

        Assert.Equal(ClaimLock.Probe.Unknown, probe);
    }

    [Fact]
    public void Recover_UnlockedRelayClaimOfADeadProcess_ReturnedAtOnceDespiteTheAgeRule()
    {
        using var temp = new TempSpool();
        StampedBusyFile(temp);

        (int returned, int _) = temp.Spool.Recover(TimeSpan.FromHours(1));

        Assert.Equal(1, returned);
        Assert.Single(temp.Spool.Find(null, new[] { RelayMessageState.Ready }));
    }

    [Fact]
    public void Recover_FreshClaimWithoutRelaysStamp_LeftForTheAgeRule()
    {
        using var temp = new TempSpool();
        string busy = StampedBusyFile(temp);
        long now = DateTime.UtcNow.Ticks;
        File.SetLastWriteTimeUtc(busy, new DateTime(now - (now % TimeSpan.TicksPerSecond), DateTimeKind.Utc));

        (int returned, int _) = temp.Spool.Recover(TimeSpan.FromHours(1));

        Assert.Equal(0, returned);
        Assert.True(File.Exists(busy));
    }

    [Fact]
    public async Task TryClaim_Settled_LockIsLetGo()
    {
        using var temp = new TempSpool();
        RelayMessage message = await temp.CommitAsync("Subject: bad\r\n\r\nx\r\n");
        ClaimedMessage claim = temp.Spool.TryClaim(message);

        RelayMessage bad = claim.MarkBad("test", 550);

        using var exclusive = new FileStream(bad.EnvelopePath, FileMode.Open, FileAccess.Read, FileShare.None);
        Assert.True(exclusive.CanRead);
    }

    /// <summary>A .busy envelope as a Relay claimer leaves it when killed: stamped, no longer open.</summary>
    private static string StampedBusyFile(TempSpool temp)
    {
        const string Id = "emailrelay.4242.1700000000.1";
        string envelope = "X-MailRelay-Format: #2821.8\r\nX-MailRelay-Content: 7bit\r\nX-MailRelay-From: a@example.com\r\nX-MailRelay-ToCount: 1\r\nX-MailRelay-To-Remote: b@example.net\r\nX-MailRelay-End: 1\r\n";
        temp.WriteFiles(Id, RelayMessageState.Busy, envelope, "Subject: x\r\n\r\nx\r\n");
        string busy = temp.FilePath(SpoolDirectory.EnvelopeFileName(Id, RelayMessageState.Busy));
        File.SetLastWriteTimeUtc(busy, ClaimLock.StampNow());
        return busy;
    }
}
