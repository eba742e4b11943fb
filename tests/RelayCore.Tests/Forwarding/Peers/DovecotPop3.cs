// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using RelayCore.Tests.Hosting;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding.Peers;

/// <summary>
/// A private dovecot POP3 server (its own config, base_dir, state and log in the test's directory; never the
/// system instance) on loopback ports, with USER/PASS and APOP, optionally STLS and POP3S. Its log has
/// microsecond Unix timestamps, so logins can be put in order with the next hop's record.
/// </summary>
internal sealed class DovecotPop3 : IAsyncDisposable
{
    internal const string Program = "/usr/sbin/dovecot";

    private static readonly Regex s_login = new Regex(@"^(?<ts>\d+\.\d+) pop3-login: Info: Login: user=<(?<user>[^>]*)>, method=(?<method>[A-Z0-9-]+), rip=(?<rip>[0-9a-fA-F.:]+)", RegexOptions.CultureInvariant);
    private static readonly Regex s_logout = new Regex(@"^(?<ts>\d+\.\d+) pop3\((?<user>[^)]*)\).*Disconnected: Logged out", RegexOptions.CultureInvariant);

    private readonly PeerProcess _process;

    private DovecotPop3(PeerProcess process, int port, int tlsPort, string logPath)
    {
        _process = process;
        Port = port;
        TlsPort = tlsPort;
        LogPath = logPath;
    }

    /// <summary>The POP3 port (STLS offered when started with a certificate).</summary>
    internal int Port { get; }

    /// <summary>The POP3S (implicit TLS) port; 0 without a certificate.</summary>
    internal int TlsPort { get; }

    internal string LogPath { get; }

    internal string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath) : string.Empty;

    internal static bool IsAvailable(ITestOutputHelper output) => Integration.Peer.IsAvailable(Program, output);

    /// <summary>Starts dovecot with the accounts given as <c>user:password</c>; with a certificate (PEM cert and key files) it also offers STLS and POP3S.</summary>
    internal static async Task<DovecotPop3> StartAsync(string directory, string[] accounts, TestCertificate certificate = null, bool offerApop = true)
    {
        string root = Directory.CreateDirectory(Path.Combine(directory, "dovecot")).FullName;
        string mail = Directory.CreateDirectory(Path.Combine(root, "mail")).FullName;
        // The mail processes run as nobody and make their maildirs here.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(mail, (UnixFileMode)0x1FF);
        }
        string users = Path.Combine(root, "users");
        File.WriteAllLines(users, accounts.Select(a => a.Substring(0, a.IndexOf(':')) + ":{PLAIN}" + a.Substring(a.IndexOf(':') + 1)));
        int port = LoopbackPort.Next();
        int tlsPort = certificate != null ? LoopbackPort.Next() : 0;
        string log = Path.Combine(root, "dovecot.log");
        string config = Path.Combine(root, "dovecot.conf");
        File.WriteAllText(config, string.Join("\n", new[]
        {
            "base_dir = " + Path.Combine(root, "run"),
            "state_dir = " + Path.Combine(root, "state"),
            "log_path = " + log,
            "log_timestamp = \"%s.%{usecs} \"",
            "protocols = pop3",
            "listen = 127.0.0.1",
            certificate != null ? "ssl = yes\nssl_cert = <" + certificate.CertificatePemPath + "\nssl_key = <" + certificate.KeyPemPath : "ssl = no",
            "disable_plaintext_auth = no",
            offerApop ? "auth_mechanisms = plain apop" : "auth_mechanisms = plain",
            "mail_location = maildir:" + mail + "/%u",
            "passdb {",
            "  driver = passwd-file",
            "  args = scheme=PLAIN username_format=%u " + users,
            "}",
            "userdb {",
            "  driver = static",
            "  args = uid=65534 gid=65534 home=" + mail + "/%u",
            "}",
            "service pop3-login {",
            "  inet_listener pop3 {",
            "    port = " + port.ToString(CultureInfo.InvariantCulture),
            "  }",
            "  inet_listener pop3s {",
            "    port = " + tlsPort.ToString(CultureInfo.InvariantCulture),
            "  }",
            "}",
            "service anvil {",
            "  chroot =",
            "}",
            string.Empty,
        }));
        PeerProcess process = PeerProcess.Start(Program, "-F", "-c", config);
        var dovecot = new DovecotPop3(process, port, tlsPort, log);
        try
        {
            await TestServer.WaitUntilAsync(() => dovecot.Log.Contains("starting up", StringComparison.Ordinal) && LoopbackPort.IsListening(port), "dovecot listening on port " + port + ": " + string.Join(" | ", process.Output));
            return dovecot;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>The POP3 logins in the log: when (Unix seconds), who, how (PLAIN for USER/PASS, APOP) and from where.</summary>
    internal IReadOnlyList<(double Time, string User, string Method, string Address)> Logins() =>
        LogLines().Select(l => s_login.Match(l)).Where(m => m.Success)
            .Select(m => (double.Parse(m.Groups["ts"].Value, CultureInfo.InvariantCulture), m.Groups["user"].Value, m.Groups["method"].Value, m.Groups["rip"].Value))
            .ToList();

    /// <summary>The times (Unix seconds) of the POP3 sessions that ended with QUIT.</summary>
    internal IReadOnlyList<double> Logouts() =>
        LogLines().Select(l => s_logout.Match(l)).Where(m => m.Success).Select(m => double.Parse(m.Groups["ts"].Value, CultureInfo.InvariantCulture)).ToList();

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private string[] LogLines() => File.Exists(LogPath) ? File.ReadAllLines(LogPath) : Array.Empty<string>();
}
