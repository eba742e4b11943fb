// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Net;
using System.Net.Sockets;

namespace RelayCore.Tests.Forwarding.Peers;

/// <summary>A loopback port free right now, for peer daemons that cannot listen on port 0 and report it (dante, dovecot, sshd).</summary>
internal static class FreePort
{
    internal static int Next()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
