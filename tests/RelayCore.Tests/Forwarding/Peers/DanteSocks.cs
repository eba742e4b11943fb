// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RelayCore.Tests.Hosting;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding.Peers;

/// <summary>
/// A private dante SOCKS server (danted, SOCKS 4 and 5; it cannot do 4a) on a loopback port, with its own
/// configuration and log in the test's directory; the log shows every connection it relayed.
/// </summary>
internal sealed class DanteSocks : IAsyncDisposable
{
    internal const string Program = "/usr/sbin/danted";

    private readonly PeerProcess _process;

    private DanteSocks(PeerProcess process, int port, string logPath)
    {
        _process = process;
        Port = port;
        LogPath = logPath;
    }

    internal int Port { get; }

    internal string LogPath { get; }

    internal static bool IsAvailable(ITestOutputHelper output) => Integration.Peer.IsAvailable(Program, output);

    internal static async Task<DanteSocks> StartAsync(string directory)
    {
        int port = LoopbackPort.Next();
        string log = Path.Combine(directory, "danted.log");
        string config = Path.Combine(directory, "danted.conf");
        File.WriteAllText(config, string.Join("\n",
            "logoutput: " + log,
            "internal: 127.0.0.1 port = " + port,
            "external: 127.0.0.1",
            "socksmethod: none",
            "clientmethod: none",
            "user.privileged: root",
            "user.unprivileged: nobody",
            "client pass {",
            "    from: 127.0.0.0/8 to: 0.0.0.0/0",
            "    log: connect disconnect error",
            "}",
            "socks pass {",
            "    from: 127.0.0.0/8 to: 0.0.0.0/0",
            "    command: connect",
            "    log: connect disconnect error",
            "}",
            string.Empty));
        PeerProcess process = PeerProcess.Start(Program, "-f", config, "-p", Path.Combine(directory, "danted.pid"));
        var socks = new DanteSocks(process, port, log);
        try
        {
            await TestServer.WaitUntilAsync(() => LoopbackPort.IsListening(port), "danted listening on port " + port + ": " + string.Join(" | ", process.Output));
            return socks;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>How many TCP connections dante opened on a client's behalf to a port (its <c>tcp/connect</c> log lines).</summary>
    internal int ConnectionsTo(int port) =>
        File.Exists(LogPath) ? File.ReadAllLines(LogPath).Count(l => l.Contains("pass(1): tcp/connect [", StringComparison.Ordinal) && l.Contains("127.0.0.1." + port, StringComparison.Ordinal)) : 0;

    internal string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath) : string.Empty;

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
