// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Threading;
using RelayCore.Forwarding;

namespace RelayCore.Hosting;

/// <summary>A running server's live counters, updated by every session without locks.</summary>
internal sealed class ServerCounters
{
    private long _connectionsTotal;
    private long _connectionsActive;
    private long _messagesAccepted;
    private long _messagesRejected;
    private long _bytesReceived;
    private long _forwardingRuns;
    private long _forwarded;
    private long _forwardFailed;
    private long _forwardDeferred;
    private long _bytesForwarded;
    private long _lastForwardTicks;
    private string _lastForwardError;

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

    internal void ForwardingRunCompleted() => Interlocked.Increment(ref _forwardingRuns);

    internal void Forwarded(ForwardResult result)
    {
        switch (result.Outcome)
        {
            case ForwardOutcome.Sent:
                Interlocked.Increment(ref _forwarded);
                Interlocked.Add(ref _bytesForwarded, result.Bytes);
                break;
            case ForwardOutcome.Failed:
                Interlocked.Increment(ref _forwardFailed);
                Volatile.Write(ref _lastForwardError, result.ToString());
                break;
            default:
                Interlocked.Increment(ref _forwardDeferred);
                Volatile.Write(ref _lastForwardError, result.ToString());
                break;
        }
        Interlocked.Exchange(ref _lastForwardTicks, DateTimeOffset.UtcNow.UtcTicks);
    }

    internal RelayServerStatistics Snapshot() => new RelayServerStatistics
    {
        ConnectionsTotal = Interlocked.Read(ref _connectionsTotal),
        ConnectionsActive = Interlocked.Read(ref _connectionsActive),
        MessagesAccepted = Interlocked.Read(ref _messagesAccepted),
        MessagesRejected = Interlocked.Read(ref _messagesRejected),
        BytesReceived = Interlocked.Read(ref _bytesReceived),
        ForwardingRuns = Interlocked.Read(ref _forwardingRuns),
        Forwarded = Interlocked.Read(ref _forwarded),
        ForwardFailed = Interlocked.Read(ref _forwardFailed),
        ForwardDeferred = Interlocked.Read(ref _forwardDeferred),
        BytesForwarded = Interlocked.Read(ref _bytesForwarded),
        LastForwardTime = LastForwardTime(),
        LastForwardError = Volatile.Read(ref _lastForwardError),
    };

    private DateTimeOffset? LastForwardTime()
    {
        long ticks = Interlocked.Read(ref _lastForwardTicks);
        return ticks == 0 ? (DateTimeOffset?)null : new DateTimeOffset(ticks, TimeSpan.Zero).ToLocalTime();
    }
}
