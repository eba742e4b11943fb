// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Forwarding;

/// <summary>The totals of one forwarding run.</summary>
public sealed class ForwardingSummary
{
    /// <summary>Creates a summary.</summary>
    public ForwardingSummary(int sent, int failed, int deferred, long bytes, int connections, TimeSpan elapsed)
    {
        Sent = sent;
        Failed = failed;
        Deferred = deferred;
        Bytes = bytes;
        Connections = connections;
        Elapsed = elapsed;
    }

    /// <summary>Messages the next hop accepted.</summary>
    public int Sent { get; }

    /// <summary>Messages marked bad.</summary>
    public int Failed { get; }

    /// <summary>Messages left ready for a later attempt.</summary>
    public int Deferred { get; }

    /// <summary>Content bytes sent.</summary>
    public long Bytes { get; }

    /// <summary>SMTP connections opened.</summary>
    public int Connections { get; }

    /// <summary>Wall time of the run.</summary>
    public TimeSpan Elapsed { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Sent} sent, {Failed} failed, {Deferred} deferred, {Bytes} bytes over {Connections} connection(s) in {Elapsed.TotalSeconds:0.###} s";
}
