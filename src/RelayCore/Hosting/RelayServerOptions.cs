// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Net;
using System.Security;
using RelayCore.Forwarding;

namespace RelayCore.Hosting;

/// <summary>Everything a <see cref="RelayServer"/> needs: the SMTP storage daemon's configuration.</summary>
/// <remarks>Defaults are safe: loopback listeners, local clients only, no open relay.</remarks>
public sealed class RelayServerOptions
{
    /// <summary>A name to find the server by (Get-RelayServer -Name).</summary>
    public string Name { get; set; } = "relay";

    /// <summary>The spool directory; created when missing.</summary>
    public string SpoolPath { get; set; }

    /// <summary>Ports for plain SMTP listeners (STARTTLS offered when a certificate is set); 0 picks a free port.</summary>
    public IList<int> Ports { get; } = new List<int>();

    /// <summary>Ports for implicit-TLS listeners (SMTPS, RFC 8314); needs a certificate.</summary>
    public IList<int> ImplicitTlsPorts { get; } = new List<int>();

    /// <summary>The interface addresses to listen on; loopback (127.0.0.1 and ::1) when empty.</summary>
    public IList<IPAddress> ListenAddresses { get; } = new List<IPAddress>();

    /// <summary>Whether clients from non-loopback addresses may connect; refused with 554 otherwise.</summary>
    public bool AllowRemoteClients { get; set; }

    /// <summary>The domain the server names itself by in its greeting, EHLO reply and Received header.</summary>
    public string Domain { get; set; }

    /// <summary>The largest message accepted, in bytes (SIZE, RFC 1870); 0 for no limit.</summary>
    public long MaxMessageSize { get; set; }

    /// <summary>An E-MailRelay secrets file whose <c>server</c> lines are the accounts clients log in as, and trusted ranges.</summary>
    public string ServerSecretsPath { get; set; }

    /// <summary>The TLS certificate: a PEM file (certificate, and key unless <see cref="CertificateKeyPath"/>) or a PFX file.</summary>
    public string CertificatePath { get; set; }

    /// <summary>The PEM private key file, when it is not in <see cref="CertificatePath"/>.</summary>
    public string CertificateKeyPath { get; set; }

    /// <summary>The password of a PFX file or an encrypted PEM key.</summary>
    public SecureString CertificatePassword { get; set; }

    /// <summary>Whether a client must start TLS before AUTH or MAIL (530 otherwise).</summary>
    public bool RequireTls { get; set; }

    /// <summary>Whether a client must authenticate before MAIL unless it is in a trusted range (530 otherwise).</summary>
    public bool RequireAuthentication { get; set; }

    /// <summary>Whether to hide the server: no Received header, VRFY disabled, a plain greeting.</summary>
    public bool Anonymous { get; set; }

    /// <summary>How long a client may stay silent before it is disconnected (421).</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The most simultaneous connections; more are answered 421 and closed.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>The most recipients per message (452 past it, RFC 5321 section 4.5.3.1.8).</summary>
    public int MaxRecipients { get; set; } = 100;

    /// <summary>The longest command or text line accepted, in bytes with CRLF (500 and disconnect past it).</summary>
    public int MaxLineLength { get; set; } = 10000;

    /// <summary>How many bad commands a client may send before it is disconnected (421).</summary>
    public int MaxBadCommands { get; set; } = 10;

    /// <summary>Receives the server's log lines (AUTH secrets redacted); null for none.</summary>
    /// <remarks>Called from many sessions at once, so it must be thread-safe; an exception it throws is ignored.</remarks>
    public Action<RelayLogLevel, string> Log { get; set; }

    /// <summary>The least important level passed to <see cref="Log"/>; <see cref="RelayLogLevel.Debug"/> logs every command and reply.</summary>
    public RelayLogLevel LogLevel { get; set; } = RelayLogLevel.Information;

    /// <summary>How long <see cref="RelayServer.StopAsync"/> lets busy sessions finish their command before closing them.</summary>
    public TimeSpan ShutdownGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How spooled mail is forwarded to the next hop; null to store only (E-MailRelay's --as-server).</summary>
    /// <remarks>Forwarding happens only when a trigger below fires, or when <see cref="RelayServer.TriggerForwarding"/> is called.</remarks>
    public ForwardingOptions Forwarding { get; set; }

    /// <summary>Whether to forward every ready message once at start-up (E-MailRelay's --forward).</summary>
    public bool ForwardOnStart { get; set; }

    /// <summary>
    /// Whether to forward when a client that stored at least one message disconnects (E-MailRelay's
    /// --forward-on-disconnect, the heart of --as-proxy).
    /// </summary>
    /// <remarks>
    /// Disconnects during a forwarding pass cause one more pass after it. After a pass that could only defer
    /// (the next hop unreachable), the next one waits 5 seconds, so a busy server does not re-read its backlog
    /// back to back while the next hop is down.
    /// </remarks>
    public bool ForwardOnDisconnect { get; set; }

    /// <summary>
    /// Whether to forward each message during DATA (or BDAT LAST), after it is durably stored and before the reply,
    /// so the client's reply is the next hop's (E-MailRelay's --immediate).
    /// </summary>
    /// <remarks>
    /// When the next hop refuses (5xx) or cannot take the message (4xx, no connection), the client is told so and
    /// keeps responsibility for it, so the spooled copy is removed: left in the spool it would be sent again later,
    /// a duplicate of the client's own retry or bounce (E-MailRelay leaves it, bad or ready). When the next hop
    /// gives no verdict within <see cref="IdleTimeout"/>, the client is told 250 and the spool keeps the message
    /// for a later pass (<see cref="PollInterval"/>, or the next start with <see cref="ForwardOnStart"/>).
    /// </remarks>
    public bool ForwardImmediately { get; set; }

    /// <summary>How often to forward every ready message (E-MailRelay's --poll); <see cref="TimeSpan.Zero"/> for never.</summary>
    public TimeSpan PollInterval { get; set; }
}
