// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Smtp;

/// <summary>Where an SMTP session is in the command sequence of RFC 5321 section 3.</summary>
internal enum SmtpSessionState
{
    /// <summary>Greeting sent, or TLS just started: EHLO or HELO comes next.</summary>
    Connected,

    /// <summary>EHLO or HELO done: no mail transaction open.</summary>
    Greeted,

    /// <summary>MAIL accepted: recipients come next.</summary>
    Mail,

    /// <summary>At least one RCPT accepted: more RCPT, DATA or BDAT.</summary>
    Rcpt,

    /// <summary>Receiving message text after DATA.</summary>
    Data,

    /// <summary>Receiving BDAT chunks; more BDAT until one says LAST.</summary>
    Chunking,
}
