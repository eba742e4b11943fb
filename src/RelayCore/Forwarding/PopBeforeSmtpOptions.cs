// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Net;
using RelayCore.Net;

namespace RelayCore.Forwarding;

/// <summary>
/// The Email Redirector's POP-before-SMTP step: log in to the ISP's POP3 server (USER/PASS or APOP),
/// STAT, QUIT, then wait <see cref="Delay"/> before each SMTP session so the ISP's relay list catches up.
/// </summary>
public sealed class PopBeforeSmtpOptions
{
    /// <summary>The POP3 server, <c>host:port</c> (110, or 995 with <see cref="ClientTlsMode.Implicit"/>).</summary>
    public NextHopAddress Server { get; set; }

    /// <summary>The POP3 account; when null, the forwarding account (from the secrets file or credential) is used.</summary>
    public NetworkCredential Credential { get; set; }

    /// <summary>Whether to log in with APOP instead of USER/PASS (the server must offer it in its greeting).</summary>
    public bool UseApop { get; set; }

    /// <summary>TLS to the POP3 server: none, STLS when offered, STLS required, or implicit (POP3S).</summary>
    public ClientTlsMode Tls { get; set; } = ClientTlsMode.None;

    /// <summary>How long to wait after the POP3 QUIT before connecting to SMTP.</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(1);
}
