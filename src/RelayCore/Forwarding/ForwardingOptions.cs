// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Net;
using System.Security;
using RelayCore.Hosting;
using RelayCore.Net;
using RelayCore.OAuth;

namespace RelayCore.Forwarding;

/// <summary>
/// How spooled mail is forwarded to the next hop: E-MailRelay's client options and the
/// Email Redirector's one-account contract. Shared by Invoke-RelayForward, the server's
/// forwarding triggers and Test-RelayConnection.
/// </summary>
public sealed class ForwardingOptions
{
    /// <summary>The default next hop; an envelope's ForwardToAddress overrides it per message.</summary>
    public NextHopAddress NextHop { get; set; }

    /// <summary>The protocol spoken to a SOCKS proxy named in a next hop.</summary>
    public SocksProtocol SocksProtocol { get; set; } = SocksProtocol.Socks4a;

    /// <summary>An E-MailRelay secrets file whose <c>client</c> lines are the forwarding accounts (selected by ClientAccountSelector).</summary>
    /// <remarks>
    /// When an account applies (a line without selector, <see cref="Credential"/>, <see cref="ClientAccount"/>,
    /// <see cref="OAuthToken"/>, an <see cref="OAuthAccounts"/> provider, or the envelope's selector line), a next
    /// hop that offers no AUTH fails the session: mail is never sent unauthenticated by surprise. A selector that
    /// neither a line nor an OAuth2 account carries fails too.
    /// </remarks>
    public string ClientSecretsPath { get; set; }

    /// <summary>
    /// A client account without a file: E-MailRelay's <c>plain:&lt;base64 user&gt;:&lt;base64 password&gt;</c>.
    /// </summary>
    public string ClientAccount { get; set; }

    /// <summary>The account to log in as, when not from a secrets file (a PowerShell -Credential).</summary>
    public NetworkCredential Credential { get; set; }

    /// <summary>A static OAuth2 bearer token for XOAUTH2, used with the user of <see cref="Credential"/> or the secrets file's oauth line.</summary>
    public SecureString OAuthToken { get; set; }

    /// <summary>
    /// OAuth2 token providers for XOAUTH2: the default one (for messages without a ClientAccountSelector)
    /// and one per selector, which come before the secrets file's lines. The caller owns and disposes the set.
    /// </summary>
    /// <remarks>
    /// Each session asks the account's provider for its current token; when the next hop refuses it, the
    /// token is invalidated and AUTH tried once more with a new one. A token that cannot be had fails the
    /// session at AUTH with the endpoint's error and remedy, and the messages stay in the spool.
    /// </remarks>
    public OAuthAccountSet OAuthAccounts { get; set; }

    /// <summary>SASL mechanisms in order of preference (e.g. CRAM-MD5, PLAIN); empty for the built-in order (strongest first).</summary>
    public IList<string> AuthMechanisms { get; } = new List<string>();

    /// <summary>SASL mechanisms never to use, whatever the next hop offers.</summary>
    public IList<string> AvoidAuthMechanisms { get; } = new List<string>();

    /// <summary>TLS towards the next hop.</summary>
    /// <remarks>
    /// A mechanism that sends a reusable secret (PLAIN, LOGIN, XOAUTH2) is used only over TLS; without TLS
    /// the session fails at AUTH rather than reveal it, unless this is <see cref="ClientTlsMode.None"/>, an
    /// explicit choice that is logged at Warning. CRAM-MD5 reveals no password and may go over plain TCP.
    /// A certificate that does not verify fails the session in every TLS mode; it never falls back to plain.
    /// </remarks>
    public ClientTlsMode Tls { get; set; } = ClientTlsMode.StartTlsWhenOffered;

    /// <summary>A PEM file of CA certificates to trust, in addition to the system store.</summary>
    public string CaFilePath { get; set; }

    /// <summary>The name to send as SNI and to verify the next hop's certificate against; the next hop's host when null.</summary>
    public string TlsServerName { get; set; }

    /// <summary>Whether to accept any server certificate (an explicit, logged choice; never the default).</summary>
    public bool SkipCertificateValidation { get; set; }

    /// <summary>A client certificate (PEM or PFX) to present to the next hop.</summary>
    public string ClientCertificatePath { get; set; }

    /// <summary>The PEM key file of <see cref="ClientCertificatePath"/>, when separate.</summary>
    public string ClientCertificateKeyPath { get; set; }

    /// <summary>The password of the client certificate's PFX or encrypted key.</summary>
    public SecureString ClientCertificatePassword { get; set; }

    /// <summary>The longest wait for a TCP (and SOCKS) connection.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait for any one reply of the next hop.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long an open forwarding connection waits for more mail (server triggers) before QUIT.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The domain to name in EHLO; the machine's name when null.</summary>
    public string HeloDomain { get; set; }

    /// <summary>The local address to connect from; the system's choice when null.</summary>
    public IPAddress LocalAddress { get; set; }

    /// <summary>Parallel connections to one next hop (Invoke-RelayForward -ThrottleLimit).</summary>
    public int MaxConnections { get; set; } = 1;

    /// <summary>
    /// Whether to send to the recipients the next hop accepts and leave a <c>.bad</c> message with only the
    /// rejected ones (E-MailRelay's --forward-to-some); by default one rejected recipient fails the message.
    /// </summary>
    public bool ForwardToSome { get; set; }

    /// <summary>The one envelope sender (MAIL FROM) for every message, when set (the Redirector's one-account mode); content untouched.</summary>
    public string EnvelopeFrom { get; set; }

    /// <summary>The POP-before-SMTP step before each SMTP session; null for none.</summary>
    public PopBeforeSmtpOptions PopBeforeSmtp { get; set; }

    /// <summary>Where log lines go (connection steps, outcomes); secrets never appear in them.</summary>
    public Action<RelayLogLevel, string> Log { get; set; }

    /// <summary>The most detailed level passed to <see cref="Log"/>.</summary>
    public RelayLogLevel LogLevel { get; set; } = RelayLogLevel.Information;
}
