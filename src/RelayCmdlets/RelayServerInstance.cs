// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Net;
using RelayCore.Hosting;

namespace RelayCmdlets;

/// <summary>
/// A running (or stopped) relay server as PowerShell shows it: what Start-RelayServer and
/// Get-RelayServer emit and Stop-RelayServer takes.
/// </summary>
/// <remarks>
/// The counters are flat, live properties (each read takes a fresh snapshot) so that a table
/// column, <c>Select-Object</c> and <c>Where-Object</c> all see the same names and current values.
/// </remarks>
public sealed class RelayServerInstance
{
    internal RelayServerInstance(RelayServer server)
    {
        Server = server;
    }

    /// <summary>The server's name, unique among the servers running in this process.</summary>
    public string Name => Server.Name;

    /// <summary>The plain SMTP endpoints listened on, with the ports actually bound.</summary>
    public IReadOnlyList<IPEndPoint> Endpoints => Server.Endpoints;

    /// <summary>The implicit-TLS (SMTPS) endpoints listened on, with the ports actually bound.</summary>
    public IReadOnlyList<IPEndPoint> TlsEndpoints => Server.ImplicitTlsEndpoints;

    /// <summary>The spool directory's full path.</summary>
    public string SpoolPath => Server.SpoolPath;

    /// <summary>When the server started.</summary>
    public DateTimeOffset StartTime => Server.StartTime;

    /// <summary>Whether the server is accepting connections.</summary>
    public bool IsRunning => Server.IsRunning;

    /// <summary>Connections open now.</summary>
    public long Connections => Server.GetStatistics().ConnectionsActive;

    /// <summary>Connections accepted since the server started.</summary>
    public long ConnectionsTotal => Server.GetStatistics().ConnectionsTotal;

    /// <summary>Messages committed to the spool since the server started.</summary>
    public long Accepted => Server.GetStatistics().MessagesAccepted;

    /// <summary>Messages refused after MAIL since the server started.</summary>
    public long Rejected => Server.GetStatistics().MessagesRejected;

    /// <summary>Content bytes written to the spool since the server started.</summary>
    public long BytesReceived => Server.GetStatistics().BytesReceived;

    /// <summary>Where the server forwards to (<c>-ForwardTo</c>); null when it only stores.</summary>
    public string ForwardTo => Server.Options.Forwarding?.NextHop?.ToString();

    /// <summary>Messages the next hop accepted since the server started.</summary>
    public long Forwarded => Server.GetStatistics().Forwarded;

    /// <summary>Messages the next hop refused for good (now Bad) since the server started.</summary>
    public long ForwardFailed => Server.GetStatistics().ForwardFailed;

    /// <summary>Forwarding attempts that left a message Ready for later since the server started.</summary>
    public long ForwardDeferred => Server.GetStatistics().ForwardDeferred;

    /// <summary>Content bytes forwarded since the server started.</summary>
    public long BytesForwarded => Server.GetStatistics().BytesForwarded;

    /// <summary>When the last forwarding run ended; null before the first.</summary>
    public DateTimeOffset? LastForwardTime => Server.GetStatistics().LastForwardTime;

    /// <summary>Why the last forwarding run could not forward (the next hop down, a bad account); empty when it could.</summary>
    public string LastForwardError => Server.GetStatistics().LastForwardError;

    /// <summary>The engine's server object, for what the properties above do not show.</summary>
    public RelayServer Server { get; }

    /// <summary>The server's name.</summary>
    /// <returns>The name.</returns>
    public override string ToString() => Name;
}
