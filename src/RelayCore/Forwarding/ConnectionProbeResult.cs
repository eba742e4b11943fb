// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;

namespace RelayCore.Forwarding;

/// <summary>
/// What a next hop offered and where a session with it failed: the result of
/// <see cref="ConnectionProbe.RunAsync"/> (Test-RelayConnection).
/// </summary>
public sealed class ConnectionProbeResult
{
    internal ConnectionProbeResult()
    {
    }

    /// <summary>The next hop probed, as <c>host:port</c> (with <c>@socks-host:port</c> when proxied).</summary>
    public string NextHop { get; internal set; } = string.Empty;

    /// <summary>Whether every step worked: the next hop would take mail from this configuration.</summary>
    public bool Succeeded => FailedStep == null;

    /// <summary>The step that failed; null when all worked.</summary>
    public ConnectionStep? FailedStep { get; internal set; }

    /// <summary>Why it failed; empty when all worked.</summary>
    public string Error { get; internal set; } = string.Empty;

    /// <summary>Whether trying again later, unchanged, could succeed; null when nothing failed.</summary>
    public bool? IsTransient { get; internal set; }

    /// <summary>The next hop's greeting (the 220 line without its code).</summary>
    public string Banner { get; internal set; } = string.Empty;

    /// <summary>The EHLO keywords offered (after STARTTLS, when it was used), e.g. SIZE, PIPELINING, 8BITMIME, STARTTLS, AUTH.</summary>
    public IReadOnlyList<string> Extensions { get; internal set; } = Array.Empty<string>();

    /// <summary>The largest message the next hop takes (EHLO SIZE), in bytes; null when it did not say.</summary>
    public long? MaxSize { get; internal set; }

    /// <summary>The SASL mechanisms offered (EHLO AUTH).</summary>
    public IReadOnlyList<string> AuthMechanisms { get; internal set; } = Array.Empty<string>();

    /// <summary>Whether the session was encrypted.</summary>
    public bool IsSecure { get; internal set; }

    /// <summary>The TLS protocol, e.g. <c>Tls13</c>; empty without TLS.</summary>
    public string TlsProtocol { get; internal set; } = string.Empty;

    /// <summary>The TLS cipher suite; empty without TLS.</summary>
    public string TlsCipher { get; internal set; } = string.Empty;

    /// <summary>The certificate the next hop presented, with what verification found; null without TLS.</summary>
    public ServerCertificateInfo Certificate { get; internal set; }

    /// <summary>The user the probe logged in as; empty when no account was used.</summary>
    public string AuthenticatedAs { get; internal set; } = string.Empty;

    /// <summary>The SASL mechanism used; empty when no account was used.</summary>
    public string AuthMechanism { get; internal set; } = string.Empty;

    /// <summary>
    /// The token step of an OAuth2 account: provider, the token's user, expiry, roles and scopes (never the
    /// token), or the endpoint's error and what to fix, and the XOAUTH2 outcome; null for other accounts.
    /// </summary>
    public ConnectionProbeToken OAuth { get; internal set; }

    /// <summary>The steps, in the order they ran.</summary>
    public IReadOnlyList<ConnectionProbeStep> Steps { get; internal set; } = Array.Empty<ConnectionProbeStep>();

    /// <summary>The protocol lines exchanged (POP3, then SMTP), <c>C:</c> for Relay and <c>S:</c> for the server, secrets masked.</summary>
    public IReadOnlyList<string> Transcript { get; internal set; } = Array.Empty<string>();

    /// <summary>The whole probe's time.</summary>
    public TimeSpan Elapsed { get; internal set; }

    /// <inheritdoc/>
    public override string ToString() => NextHop + ": " + (Succeeded ? "ok" : FailedStep + " failed: " + Error);
}
