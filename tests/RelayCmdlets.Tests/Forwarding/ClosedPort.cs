// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Net;
using System.Net.Sockets;

namespace RelayCmdlets.Tests.Forwarding;

/// <summary>A loopback port nothing listens on, so connecting to it is refused at once: a next hop that is down.</summary>
internal static class ClosedPort
{
    /// <summary>Binds port 0, notes the port the system chose, and closes it again.</summary>
    /// <returns>The port.</returns>
    internal static int Find()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
