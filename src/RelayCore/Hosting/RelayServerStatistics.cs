// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

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
}
