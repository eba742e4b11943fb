// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Auth;

/// <summary>Which side of an SMTP conversation a secrets line serves.</summary>
public enum SecretSide
{
    /// <summary>A <c>client</c> line: the account used when forwarding to a next hop.</summary>
    Client,

    /// <summary>A <c>server</c> line: an account clients log in as, or a trusted address range.</summary>
    Server,
}
