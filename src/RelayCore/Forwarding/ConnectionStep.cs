// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Forwarding;

/// <summary>A step of opening a session with a next hop, in the order they happen.</summary>
public enum ConnectionStep
{
    /// <summary>The POP-before-SMTP login (connect, login, STAT, QUIT) and its delay.</summary>
    Pop,

    /// <summary>The TCP connection to the next hop, or to the SOCKS proxy.</summary>
    Connect,

    /// <summary>The SOCKS handshake through which the proxy reaches the next hop.</summary>
    Socks,

    /// <summary>The next hop's 220 greeting.</summary>
    Greeting,

    /// <summary>EHLO (or the HELO fallback) and the extensions it lists.</summary>
    Ehlo,

    /// <summary>TLS: STARTTLS or implicit, the handshake and the certificate check.</summary>
    Tls,

    /// <summary>Getting the OAuth2 access token of an XOAUTH2 account from its provider (the token endpoint), before AUTH.</summary>
    Token,

    /// <summary>SMTP AUTH with the client account.</summary>
    Auth,
}
