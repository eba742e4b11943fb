// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.IO;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.Net;
using RelayCore.OAuth;
using RelayCore.Spool;
using RelayCore.Tests.OAuth;

namespace ForwardAgent;

/// <summary>
/// Forwards every ready message of a spool with RelayCore's ForwardingAgent, without PowerShell:
/// <c>ForwardAgent &lt;spool-dir&gt; &lt;host:port&gt; &lt;connections&gt; [&lt;warm-up-spool-dir&gt;]</c>.
/// The warm-up spool is forwarded first, untimed, by another agent (so the timed run opens its own
/// connections), to leave JIT compilation out of the figure as store.sh's WARMUP does. Prints one
/// <c>RESULT forward-engine</c> line with the time ForwardAsync took (start-up excluded) and the process's
/// CPU time meanwhile. Options after the positional arguments log in to the next hop over plain SMTP
/// (TLS turned off, as bench/auth-sink offers none): <c>--auth-plain user:password</c>, or
/// <c>--xoauth2 url,ca-pem-file,client-id,client-secret,refresh-token,user</c> for XOAUTH2 with tokens from the
/// refresh-token provider against an HTTPS token endpoint whose certificate that CA (and only it) vouches for.
/// One provider serves the warm-up and the timed run, as one serves a server's life: its one token
/// request falls in the warm-up.
/// </summary>
internal static class Program
{
    private static readonly TimeSpan s_limit = TimeSpan.FromMinutes(10);

    private const string Usage = "usage: ForwardAgent <spool-dir> <host:port> <connections> [<warm-up-spool-dir>] [--auth-plain user:password | --xoauth2 url,ca-pem-file,client-id,client-secret,refresh-token,user]";

    private static async Task<int> Main(string[] args)
    {
        int positional = Array.FindIndex(args, a => a.StartsWith("--", StringComparison.Ordinal));
        positional = positional < 0 ? args.Length : positional;
        if (positional < 3 || positional > 4 || !NextHopAddress.TryParse(args[1], out NextHopAddress hop) ||
            !int.TryParse(args[2], NumberStyles.None, CultureInfo.InvariantCulture, out int connections) || connections < 1)
        {
            Console.Error.WriteLine(Usage);
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
        if (!TryReadAccount(args, positional, options, out HttpClient tokenClient))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        using HttpClient ownedClient = tokenClient;
        SpoolDirectory spool = SpoolDirectory.Open(args[0], create: false);
        using var limit = new CancellationTokenSource(s_limit);
        if (positional == 4)
        {
            await using var warmUp = new ForwardingAgent(options);
            ForwardingSummary warm = await warmUp.ForwardAsync(SpoolDirectory.Open(args[3], create: false), null, null, limit.Token);
            Console.Error.WriteLine("warm-up: " + warm);
        }
        await using var agent = new ForwardingAgent(options);
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        ForwardingSummary summary = await agent.ForwardAsync(spool, null, null, limit.Token);
        double seconds = clock.Elapsed.TotalSeconds;
        double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        Console.WriteLine(string.Format(
            CultureInfo.InvariantCulture,
            "RESULT forward-engine sent={0} failed={1} deferred={2} connections={3} secs={4:0.000} msgs_per_s={5:0.0} cpu_s={6:0.000}",
            summary.Sent, summary.Failed, summary.Deferred, summary.Connections, seconds, summary.Sent / seconds, cpu));
        return summary.Failed == 0 && summary.Deferred == 0 ? 0 : 1;
    }

    /// <summary>
    /// Reads the login option, if any, into the options (TLS off: the bench's sink offers none); an XOAUTH2
    /// account gets an HTTP client for its token endpoint that trusts the given CA and nothing else.
    /// </summary>
    /// <returns>False when an option is malformed.</returns>
    private static bool TryReadAccount(string[] args, int at, ForwardingOptions options, out HttpClient tokenClient)
    {
        tokenClient = null;
        if (at == args.Length)
        {
            return true;
        }
        if (at + 2 != args.Length)
        {
            return false;
        }
        options.Tls = ClientTlsMode.None;
        string value = args[at + 1];
        int colon = value.IndexOf(':', StringComparison.Ordinal);
        if (args[at] == "--auth-plain" && colon > 0)
        {
            options.Credential = new NetworkCredential(value.Substring(0, colon), value.Substring(colon + 1));
            return true;
        }
        string[] parts = value.Split(',');
        if (args[at] != "--xoauth2" || parts.Length != 6)
        {
            return false;
        }
        tokenClient = TokenEndpoint.CreateClient(X509Certificate2.CreateFromPem(File.ReadAllText(parts[1])));
        var provider = new RefreshTokenProvider(new RefreshTokenOptions
        {
            TokenEndpoint = new Uri(parts[0]),
            ClientId = parts[2],
            ClientSecret = new NetworkCredential(string.Empty, parts[3]).SecurePassword,
            RefreshToken = new NetworkCredential(string.Empty, parts[4]).SecurePassword,
            UserName = parts[5],
            HttpClient = tokenClient,
        });
        options.OAuthAccounts = new OAuthAccountSet(provider, null, null);
        return true;
    }
}
