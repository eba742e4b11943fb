// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Net;
using System.Net.Sockets;

namespace RelayCore.Tests.Forwarding.Peers;

/// <summary>Loopback ports for peer daemons that cannot listen on port 0 and report it (dante, dovecot, sshd).</summary>
internal static class LoopbackPort
{
    /// <summary>A port free right now.</summary>
    internal static int Next()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    /// <summary>Whether something accepts connections on 127.0.0.1 at the port.</summary>
    internal static bool IsListening(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
