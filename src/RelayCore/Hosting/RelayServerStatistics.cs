// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Hosting;

/// <summary>A snapshot of a running server's counters.</summary>
public sealed class RelayServerStatistics
{
    /// <summary>Connections accepted since start.</summary>
    public long ConnectionsTotal { get; internal set; }

    /// <summary>Connections open now.</summary>
    public long ConnectionsActive { get; internal set; }

    /// <summary>Messages committed to the spool (answered 250).</summary>
    public long MessagesAccepted { get; internal set; }

    /// <summary>Messages refused after MAIL (size, disk, client gone mid-DATA, limits).</summary>
    public long MessagesRejected { get; internal set; }

    /// <summary>Content bytes written to the spool.</summary>
    public long BytesReceived { get; internal set; }

    /// <summary>Forwarding passes over the spool completed (each trigger that ran; coalesced triggers count once).</summary>
    public long ForwardingRuns { get; internal set; }

    /// <summary>Messages the next hop accepted.</summary>
    public long Forwarded { get; internal set; }

    /// <summary>Messages the next hop refused for good (5xx): marked bad, or refused back to an immediate-mode client.</summary>
    public long ForwardFailed { get; internal set; }

    /// <summary>Forwarding attempts that left a message for later (connection failure, 4xx, timeout, stop).</summary>
    public long ForwardDeferred { get; internal set; }

    /// <summary>Content bytes the next hop accepted.</summary>
    public long BytesForwarded { get; internal set; }

    /// <summary>When the last message was settled by forwarding (sent, failed or deferred); null before the first.</summary>
    public DateTimeOffset? LastForwardTime { get; internal set; }

    /// <summary>The last failure or deferral: the message id, outcome and the next hop's reply or the local reason; null when none yet.</summary>
    public string LastForwardError { get; internal set; }
}
