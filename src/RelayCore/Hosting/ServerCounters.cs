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

    internal long ConnectionsActive => Interlocked.Read(ref _connectionsActive);

    internal void ConnectionOpened()
    {
        Interlocked.Increment(ref _connectionsTotal);
        Interlocked.Increment(ref _connectionsActive);
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
