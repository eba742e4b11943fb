// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Forwarding;

/// <summary>The SOCKS protocol spoken to the proxy in a <c>host:port@socks-host:socks-port</c> next hop.</summary>
public enum SocksProtocol
{
    /// <summary>SOCKS 4a, as E-MailRelay (the proxy resolves the host name).</summary>
    Socks4a,

    /// <summary>SOCKS 5 (RFC 1928).</summary>
    Socks5,
}
