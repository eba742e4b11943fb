// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.Net;

namespace EngineServer;

/// <summary>
/// Runs RelayCore's SMTP server on 127.0.0.1 until SIGTERM or Ctrl+C, without PowerShell, for the
/// benchmarks' <c>SERVER_CMD</c>: <c>EngineServer &lt;port&gt; &lt;spool-dir&gt; [forwarding options]</c>.
/// The forwarding options are E-MailRelay's: <c>--forward-to host:port</c> with any of <c>--forward</c>,
/// <c>--forward-on-disconnect</c>, <c>--immediate</c>, <c>--poll &lt;seconds&gt;</c>, and
/// <c>--connections &lt;n&gt;</c> (parallel connections to the next hop).
/// </summary>
internal static class Program
{
    private const string Usage = "usage: EngineServer <port> <spool-dir> [--forward-to host:port [--forward] [--forward-on-disconnect] [--immediate] [--poll seconds] [--connections n]]";

    private static async Task<int> Main(string[] args)
    {
        if (args.Length < 2 || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int port))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        var options = new RelayServerOptions
        {
            SpoolPath = args[1],
            MaxConnections = 20000,
            LogLevel = RelayLogLevel.Warning,
            Log = (level, text) => Console.Error.WriteLine(level + ": " + text),
        };
        options.Ports.Add(port);
        if (!TryReadForwarding(args, options))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        RelayServer server = await RelayServer.StartAsync(options, CancellationToken.None);
        var stop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.TrySetResult(true);
        }
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal))
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal))
        {
            await stop.Task;
        }
        await server.StopAsync(CancellationToken.None);
        RelayServerStatistics statistics = server.GetStatistics();
        // For the scripts: the forwarding passes and outcomes of the run (proxy.sh reads them).
        Console.Error.WriteLine(FormattableString.Invariant(
            $"STATISTICS accepted={statistics.MessagesAccepted} forwarding_runs={statistics.ForwardingRuns} forwarded={statistics.Forwarded} deferred={statistics.ForwardDeferred} failed={statistics.ForwardFailed}"));
        return 0;
    }

    private static bool TryReadForwarding(string[] args, RelayServerOptions options)
    {
        ForwardingOptions forwarding = null;
        for (int i = 2; i < args.Length; i++)
        {
            bool hasValue = i + 1 < args.Length;
            switch (args[i])
            {
                case "--forward-to" when hasValue:
                    forwarding = new ForwardingOptions { NextHop = NextHopAddress.Parse(args[++i]), Tls = ClientTlsMode.None };
                    options.Forwarding = forwarding;
                    break;
                case "--forward":
                    options.ForwardOnStart = true;
                    break;
                case "--forward-on-disconnect":
                    options.ForwardOnDisconnect = true;
                    break;
                case "--immediate":
                    options.ForwardImmediately = true;
                    break;
                case "--poll" when hasValue:
                    options.PollInterval = TimeSpan.FromSeconds(double.Parse(args[++i], CultureInfo.InvariantCulture));
                    break;
                case "--connections" when hasValue && forwarding != null:
                    forwarding.MaxConnections = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    return false;
            }
        }
        return true;
    }
}
