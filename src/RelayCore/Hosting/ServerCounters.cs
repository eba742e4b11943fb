// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Threading;

namespace RelayCore.Hosting;

/// <summary>A running server's live counters, updated by every session without locks.</summary>
internal sealed class ServerCounters
{
    private long _connectionsTotal;
    private long _connectionsActive;
    private long _messagesAccepted;
    private long _messagesRejected;
    private long _bytesReceived;

    /// <summary>
    /// Counts a connection in as active unless <paramref name="maxActive"/> are already; the check
    /// and the increment are one atomic step, so listeners accepting at once cannot overshoot.
    /// </summary>
    internal bool TryOpenConnection(long maxActive)
    {
        long active = Interlocked.Read(ref _connectionsActive);
        while (active < maxActive)
        {
            long seen = Interlocked.CompareExchange(ref _connectionsActive, active + 1, active);
            if (seen == active)
            {
                Interlocked.Increment(ref _connectionsTotal);
                return true;
            }
            active = seen;
        }
        return false;
    }

    /// <summary>A refused connection counts in the total but never becomes active.</summary>
    internal void ConnectionRefused() => Interlocked.Increment(ref _connectionsTotal);

    internal void ConnectionClosed() => Interlocked.Decrement(ref _connectionsActive);

    internal void MessageAccepted(long bytes)
    {
        Interlocked.Increment(ref _messagesAccepted);
        Interlocked.Add(ref _bytesReceived, bytes);
    }

    internal void MessageRejected() => Interlocked.Increment(ref _messagesRejected);

    internal RelayServerStatistics Snapshot() => new RelayServerStatistics
    {
        ConnectionsTotal = Interlocked.Read(ref _connectionsTotal),
        ConnectionsActive = Interlocked.Read(ref _connectionsActive),
        MessagesAccepted = Interlocked.Read(ref _messagesAccepted),
        MessagesRejected = Interlocked.Read(ref _messagesRejected),
        BytesReceived = Interlocked.Read(ref _bytesReceived),
    };
}
