// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.Net;
using RelayCore.Spool;

namespace ForwardAgent;

/// <summary>
/// Forwards every ready message of a spool with RelayCore's ForwardingAgent, without PowerShell:
/// <c>ForwardAgent &lt;spool-dir&gt; &lt;host:port&gt; &lt;connections&gt; [&lt;warm-up-spool-dir&gt;]</c>.
/// The warm-up spool is forwarded first, untimed, by another agent (so the timed run opens its own
/// connections), to leave JIT compilation out of the figure as store.sh's WARMUP does. Prints one
/// <c>RESULT forward-engine</c> line with the time ForwardAsync took (start-up excluded).
/// </summary>
internal static class Program
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(10);

    private static async Task<int> Main(string[] args)
    {
        if (args.Length < 3 || args.Length > 4 || !NextHopAddress.TryParse(args[1], out NextHopAddress hop) ||
            !int.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out int connections) || connections < 1)
        {
            Console.Error.WriteLine("usage: ForwardAgent <spool-dir> <host:port> <connections> [<warm-up-spool-dir>]");
            return 2;
        }
        var options = new ForwardingOptions
        {
            NextHop = hop,
            MaxConnections = connections,
            IdleTimeout = TimeSpan.Zero,
            LogLevel = RelayLogLevel.Warning,
            Log = (level, text) => Console.Error.WriteLine(level + ": " + text),
        };
        SpoolDirectory spool = SpoolDirectory.Open(args[0], create: false);
        using var limit = new CancellationTokenSource(s_limit);
        if (args.Length == 4)
        {
            await using var warmUp = new ForwardingAgent(options);
            ForwardingSummary warm = await warmUp.ForwardAsync(SpoolDirectory.Open(args[3], create: false), null, null, limit.Token);
            Console.Error.WriteLine("warm-up: " + warm);
        }
        await using var agent = new ForwardingAgent(options);
        var clock = Stopwatch.StartNew();
        ForwardingSummary summary = await agent.ForwardAsync(spool, null, null, limit.Token);
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Format(
            CultureInfo.InvariantCulture,
            "RESULT forward-engine sent={0} failed={1} deferred={2} connections={3} secs={4:0.000} msgs_per_s={5:0.0}",
            summary.Sent, summary.Failed, summary.Deferred, summary.Connections, seconds, summary.Sent / seconds));
        return summary.Failed == 0 && summary.Deferred == 0 ? 0 : 1;
    }
}
