// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Forwarding;

/// <summary>How the forwarding client uses TLS towards the next hop.</summary>
public enum ClientTlsMode
{
    /// <summary>STARTTLS when the next hop offers it, plain otherwise.</summary>
    StartTlsWhenOffered,

    /// <summary>Never TLS.</summary>
    None,

    /// <summary>STARTTLS, and fail the connection when the next hop does not offer it.</summary>
    StartTls,

    /// <summary>TLS from the first byte (SMTPS, usually port 465).</summary>
    Implicit,
}
