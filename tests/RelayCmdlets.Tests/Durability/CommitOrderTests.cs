// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RelayCmdlets.Tests.Host;
using RelayCmdlets.Tests.Server;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Durability;

/// <summary>
/// "A message acknowledged with 250 is on disk (fsync) at that moment", checked where a crash
/// test cannot see it: the real daemon runs under strace, and for every acknowledged message the
/// trace must show its files closed, then a sync, then the rename to ready, then a sync, and only
/// then the 250 sent.
/// </summary>
public sealed class CommitOrderTests
{
    private const string StracePath = "/usr/bin/strace";
    private const int Sessions = 4;
    private const int MessagesPerSession = 25;

    /// <summary>strace slows every traced call; generous for a loaded two-core machine.</summary>
    private static readonly TimeSpan s_loadDeadline = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan s_exitDeadline = TimeSpan.FromSeconds(15);

    private readonly ITestOutputHelper _log;

    public CommitOrderTests(ITestOutputHelper log)
    {
        _log = log;
    }

    [Fact]
    public async Task CommitOrder_TracedServerUnderLoad_SyncsFilesBeforeRenameAndRenameBefore250()
    {
        if (!OperatingSystem.IsLinux())
        {
            _log.WriteLine("SKIPPED LOUDLY: the trace needs strace, and the commit's syncfs is Linux's.");
            return;
        }
        if (!await StraceCanTraceAsync())
        {
            return;
        }
        using var folder = new TempFolder();
        string spool = Path.Combine(folder.Path, "spool");
        string tracePath = Path.Combine(folder.Path, "trace.txt");
        using RelayProcess tracer = RelayProcess.StartUnder(
            StracePath,
            ["-f", "-qq", "--seccomp-bpf", "-s", "256", "-o", tracePath, "-e", "trace=openat,close,syncfs,fsync,fdatasync,rename,renameat,renameat2,sendto,sendmsg"],
            LoadSession.DaemonCommand(spool));
        int port = HostWaitTests.WaitForListeningPort(tracer);
        var acknowledged = new ConcurrentDictionary<string, LoadSession.Acknowledged>(StringComparer.Ordinal);

        await Task.WhenAll(Enumerable.Range(0, Sessions).Select(s => new LoadSession(s, port, acknowledged).RunAsync(MessagesPerSession, () => { }, () => false)))
            .WaitAsync(s_loadDeadline);
        // The trace is complete once relay, and so strace, has exited; relay's pid is in every id it made.
        int relayPid = int.Parse(acknowledged.Keys.First().Split('.')[1], CultureInfo.InvariantCulture);
        using (Process relay = Process.GetProcessById(relayPid))
        {
            relay.Kill();
        }
        tracer.WaitForExit(s_exitDeadline);
        SyscallTrace trace = SyscallTrace.Parse(File.ReadLines(tracePath));

        Assert.Equal(Sessions * MessagesPerSession, acknowledged.Count);
        foreach (string id in acknowledged.Keys)
        {
            AssertDurableBeforeAcknowledged(trace, spool, id);
        }
        int syncs = trace.Calls.Count(call => IsSpoolSync(trace, spool, call));
        _log.WriteLine($"{acknowledged.Count} messages acknowledged, each after sync, rename, sync; the spool saw {syncs} syncs in all " +
            $"({trace.Calls.Count} traced calls).");
    }

    /// <summary>
    /// Whether strace is installed and may trace here (a container may forbid ptrace). When not, the
    /// test fails under RELAY_REQUIRE_PEERS=1 and otherwise says loudly that it did not run.
    /// </summary>
    private async Task<bool> StraceCanTraceAsync()
    {
        string problem = "is not installed (apt-get install strace)";
        if (File.Exists(StracePath))
        {
            var probe = new ProcessStartInfo(StracePath, ["-f", "-qq", "-o", "/dev/null", "true"]) { RedirectStandardError = true, UseShellExecute = false };
            using Process strace = Process.Start(probe);
            Task<string> error = strace.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(s_exitDeadline);
            try
            {
                await strace.WaitForExitAsync(timeout.Token);
                if (strace.ExitCode == 0)
                {
                    return true;
                }
                problem = "cannot trace here (exit " + strace.ExitCode + "): " + (await error).Trim();
            }
            catch (OperationCanceledException)
            {
                strace.Kill();
                problem = "did not finish tracing 'true' within " + s_exitDeadline.TotalSeconds + " s";
            }
        }
        string message = $"PEER MISSING: {StracePath} {problem}; this test did NOT run.";
        Assert.False(Environment.GetEnvironmentVariable("RELAY_REQUIRE_PEERS") == "1", message);
        _log.WriteLine(message);
        Console.Error.WriteLine(message);
        return false;
    }

    private static void AssertDurableBeforeAcknowledged(SyscallTrace trace, string spool, string id)
    {
        SyscallTrace.Call reply = trace.Calls.SingleOrDefault(call => (call.Name == "sendto" || call.Name == "sendmsg") && call.Arguments.Contains("OK id=" + id + "\\r\\n", StringComparison.Ordinal));
        Assert.True(reply != null, $"the 250 for {id} is not in the trace");
        SyscallTrace.Call rename = trace.Calls.SingleOrDefault(call => call.Name.StartsWith("rename", StringComparison.Ordinal) && call.Succeeded &&
            call.Arguments.Contains("/" + id + ".envelope.new\"", StringComparison.Ordinal));
        Assert.True(rename != null && rename.Returned < reply.Started, $"{id}: the 250 {reply} was sent before the rename {rename}");
        Assert.True(
            trace.Calls.Any(call => IsSpoolSync(trace, spool, call) && call.Started > rename.Returned && call.Returned < reply.Started),
            $"{id}: no sync of the spool between the rename {rename} and the 250 {reply}");
        foreach (string suffix in new[] { ".content", ".envelope.new" })
        {
            SyscallTrace.Call open = trace.Calls.Single(call => call.Name == "openat" && call.Succeeded && call.Arguments.Contains("/" + id + suffix + "\"", StringComparison.Ordinal));
            SyscallTrace.Call close = trace.CloseOf(open);
            Assert.True(close != null && close.Returned < rename.Started, $"{id}{suffix} was not closed before the rename {rename}");
            bool synced = trace.Calls.Any(call =>
                (call.Name == "syncfs" && IsSpoolSync(trace, spool, call) && call.Started > close.Returned && call.Returned < rename.Started) ||
                ((call.Name == "fsync" || call.Name == "fdatasync") && call.Succeeded && call.FirstDescriptor.ToString(CultureInfo.InvariantCulture) == open.Result &&
                    call.Started > open.Returned && call.Returned < close.Started));
            Assert.True(synced, $"{id}{suffix}: its data was not synced between its close {close} and the rename {rename}");
        }
    }

    /// <summary>syncfs of the spool's file system, or fsync of the spool directory: either makes a rename durable, only the first a file's data.</summary>
    private static bool IsSpoolSync(SyscallTrace trace, string spool, SyscallTrace.Call call) =>
        (call.Name == "syncfs" || call.Name == "fsync") && call.Succeeded && trace.PathAt(call.FirstDescriptor, call.Started) == spool;
}
