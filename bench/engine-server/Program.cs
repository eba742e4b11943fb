// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Hosting;

namespace EngineServer;

/// <summary>
/// Runs RelayCore's SMTP server on 127.0.0.1 until SIGTERM or Ctrl+C, without PowerShell:
/// <c>EngineServer &lt;port&gt; &lt;spool-dir&gt;</c>. For the benchmarks' <c>SERVER_CMD</c>.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length != 2 || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int port))
        {
            Console.Error.WriteLine("usage: EngineServer <port> <spool-dir>");
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
        return 0;
    }
}
