// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using RelayCore.Forwarding;

namespace RelayCore.Hosting;

/// <summary>What became of a message forwarded during DATA, and of its spooled copy.</summary>
internal sealed class ImmediateOutcome
{
    internal ImmediateOutcome(ForwardResult result, bool isWithdrawn)
    {
        Result = result;
        IsWithdrawn = isWithdrawn;
    }

    /// <summary>The next hop's verdict; null when none came in time (or the server is stopping).</summary>
    internal ForwardResult Result { get; }

    /// <summary>
    /// Whether the spooled copy was removed because the client is to be refused: true means the client
    /// keeps responsibility; false with a failure means the spool still holds the message and will forward it.
    /// </summary>
    internal bool IsWithdrawn { get; }
}
