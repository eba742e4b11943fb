// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Spool;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Spool;

public sealed class CrashTests
{
    private readonly ITestOutputHelper _log;

    public CrashTests(ITestOutputHelper log) => _log = log;

    private const int IdsBeforeKill = 150;
    private static readonly TimeSpan s_loadDeadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task CommitLoop_KilledUnderLoad_EveryAcknowledgedMessageCompleteAndRecoverable()
    {
        using var temp = new TempSpool();
        using Process child = StartCommitLoop(temp.Path, sessions: 8);
        var output = new ChildOutput();
        Task reading = output.ReadAllAsync(child.StandardOutput.BaseStream);

        bool loaded = await WaitForAsync(() => output.LineCount >= IdsBeforeKill || child.HasExited, s_loadDeadline);
        bool exitedBeforeKill = child.HasExited;
        child.Kill();
        await child.WaitForExitAsync();
        await reading;
        List<string> acknowledged = output.CompleteLines();
        int incomplete = Directory.GetFiles(temp.Path, "*.new").Length;
        _log.WriteLine(acknowledged.Count + " acknowledged, " + incomplete + " receipts in progress at the kill");

        Assert.True(loaded, "the child printed " + acknowledged.Count + " ids in " + s_loadDeadline.TotalSeconds + " s");
        Assert.False(exitedBeforeKill, "the child exited by itself: " + await child.StandardError.ReadToEndAsync());
        Assert.True(acknowledged.Count >= IdsBeforeKill);
        foreach (string id in acknowledged)
        {
            Assert.True(File.Exists(temp.FilePath(id + ".envelope")), id + " was acknowledged but is not ready");
        }
        AssertEveryReadyEnvelopeHasCompleteContent(temp);

        (int _, int removed) = temp.Spool.Recover(TimeSpan.Zero);

        Assert.Equal(incomplete, removed);
        Assert.Empty(Directory.GetFiles(temp.Path, "*.new"));
        AssertEveryReadyEnvelopeHasCompleteContent(temp);
        Assert.Equal(Directory.GetFiles(temp.Path, "*.envelope").Length, Directory.GetFiles(temp.Path, "*.content").Length);
        Assert.True(Directory.GetFiles(temp.Path, "*.envelope").Length >= acknowledged.Count);
    }

    private static void AssertEveryReadyEnvelopeHasCompleteContent(TempSpool temp)
    {
        foreach (RelayMessage message in temp.Spool.Find(null, new[] { RelayMessageState.Ready }))
        {
            Assert.True(File.Exists(message.ContentPath), message.Id + " is ready without content");
            Assert.Equal(ChildProcessEntry.ExpectedContent(message.Id), File.ReadAllText(message.ContentPath, Encoding.ASCII));
            Assert.Equal(new[] { "test@example.net" }, message.To);
        }
    }

    private static Process StartCommitLoop(string spoolPath, int sessions) =>
        ChildProcessEntry.Start(ChildProcessEntry.CommitLoop, spoolPath, sessions.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static async Task<bool> WaitForAsync(Func<bool> condition, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > limit)
            {
                return false;
            }
            await Task.Delay(20);
        }
        return true;
    }

    /// <summary>The child's standard output, collected as it arrives.</summary>
    private sealed class ChildOutput
    {
        private readonly MemoryStream _bytes = new MemoryStream();
        private int _lineCount;

        internal int LineCount => Volatile.Read(ref _lineCount);

        internal async Task ReadAllAsync(Stream stdout)
        {
            var buffer = new byte[4096];
            int read;
            while ((read = await stdout.ReadAsync(buffer)) > 0)
            {
                lock (_bytes)
                {
                    _bytes.Write(buffer, 0, read);
                }
                Interlocked.Add(ref _lineCount, buffer.Take(read).Count(b => b == '\n'));
            }
        }

        /// <summary>Ids whose line was printed in full: a kill can cut the last one short.</summary>
        internal List<string> CompleteLines()
        {
            string text;
            lock (_bytes)
            {
                text = Encoding.ASCII.GetString(_bytes.ToArray());
            }
            List<string> lines = text.Split('\n').ToList();
            lines.RemoveAt(lines.Count - 1);
            return lines;
        }
    }
}
