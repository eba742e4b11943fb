// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Net;
using System.Net.Sockets;

namespace RelayCore.Net;

/// <summary>Decides which client addresses may connect: the open-relay guard.</summary>
internal static class ClientAddressPolicy
{
    /// <summary>Whether an address is the machine's own loopback (127.0.0.0/8, ::1, or IPv4-mapped loopback).</summary>
    internal static bool IsLocal(IPAddress address) =>
        address != null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    /// <summary>Whether a client may connect at all.</summary>
    internal static bool IsAllowed(IPAddress address, bool allowRemoteClients) => allowRemoteClients || IsLocal(address);

    /// <summary>The address as stored in envelopes: IPv4 for IPv4-mapped addresses, no scope, no port.</summary>
    internal static string ToEnvelopeText(IPAddress address)
    {
        if (address == null)
        {
            return string.Empty;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
        {
            address = new IPAddress(address.GetAddressBytes());
        }
        return address.ToString();
    }
}
