// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using RelayCore.Net;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding.Peers;

/// <summary>
/// The aiosmtpd next hop of auth_next_hop.py on a loopback port: AUTH mechanisms, STARTTLS or implicit
/// TLS, client certificates, the POP-before-SMTP relay policy; its JSON event record read back.
/// </summary>
internal sealed class AuthNextHop : IAsyncDisposable
{
    internal const string Python = "/usr/bin/python3";

    private readonly PeerProcess _process;

    private AuthNextHop(PeerProcess process, string recordPath, int port, string host)
    {
        _process = process;
        RecordPath = recordPath;
        Port = port;
        Host = host;
    }

    internal int Port { get; }

    internal string Host { get; }

    internal string RecordPath { get; }

    internal NextHopAddress Address => NextHopAddress.Parse((Host.Contains(':') ? "[" + Host + "]" : Host) + ":" + Port.ToString(CultureInfo.InvariantCulture));

    /// <summary>Whether python3 with aiosmtpd is here; when missing, fails under RELAY_REQUIRE_PEERS=1, else says so loudly.</summary>
    internal static bool IsAvailable(ITestOutputHelper output) =>
        Integration.Peer.IsAvailable(Python, output) && Integration.Peer.IsAvailable("/usr/lib/python3/dist-packages/aiosmtpd/smtp.py", output);

    /// <summary>Starts the next hop; <paramref name="arguments"/> are auth_next_hop.py's options (see its header).</summary>
    internal static async Task<AuthNextHop> StartAsync(string directory, params string[] arguments)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Forwarding", "Peers", "auth_next_hop.py");
        string record = Path.Combine(directory, "next-hop-" + Guid.NewGuid().ToString("N") + ".jsonl");
        string host = "127.0.0.1";
        int hostIndex = Array.IndexOf(arguments, "--host");
        if (hostIndex >= 0)
        {
            host = arguments[hostIndex + 1];
        }
        PeerProcess process = PeerProcess.Start(Python, new[] { script, "--record", record }.Concat(arguments).ToArray());
        try
        {
            string ready = await process.WaitForLineAsync("READY ");
            return new AuthNextHop(process, record, int.Parse(ready.Substring(6), CultureInfo.InvariantCulture), host);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>The events recorded so far, optionally only those of one kind.</summary>
    internal IReadOnlyList<JsonElement> Events(string kind = null)
    {
        if (!File.Exists(RecordPath))
        {
            return Array.Empty<JsonElement>();
        }
        return File.ReadAllLines(RecordPath)
            .Where(line => line.Length > 0)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Where(e => kind == null || e.GetProperty("event").GetString() == kind)
            .ToList();
    }

    /// <summary>The peer's own output (aiosmtpd's log), for failure messages.</summary>
    internal string Output => string.Join(Environment.NewLine, _process.Output);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
