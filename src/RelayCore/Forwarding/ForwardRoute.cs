// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using RelayCore.Net;
using RelayCore.Spool;

namespace RelayCore.Forwarding;

/// <summary>
/// The messages of one forwarding run that share a next hop and a client account: they may share a
/// connection, and a connection failure defers them all for the run.
/// </summary>
internal sealed class ForwardRoute
{
    private readonly Queue<RelayMessage> _pending = new Queue<RelayMessage>();

    internal ForwardRoute(NextHopAddress hop, string accountSelector)
    {
        Hop = hop;
        AccountSelector = accountSelector ?? string.Empty;
        Key = KeyOf(hop, AccountSelector);
    }

    internal NextHopAddress Hop { get; }

    internal string AccountSelector { get; }

    /// <summary>Identifies the route among idle connections kept between runs.</summary>
    internal string Key { get; }

    /// <summary>Why this route's messages wait for the next run; null while it works.</summary>
    internal string DeferReason { get; private set; }

    /// <summary>The messages left to send; guarded by the run's lock.</summary>
    internal Queue<RelayMessage> Pending => _pending;

    internal static string KeyOf(NextHopAddress hop, string accountSelector) => hop + "\n" + (accountSelector ?? string.Empty);

    /// <summary>Marks the route failed for this run; the first reason stays.</summary>
    internal void Defer(string reason) => DeferReason ??= reason;

    /// <inheritdoc/>
    public override string ToString() => AccountSelector.Length == 0 ? Hop.ToString() : Hop + " (account " + AccountSelector + ")";
}
