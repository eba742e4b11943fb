// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Forwarding;

/// <summary>What became of one message in a forwarding run.</summary>
public enum ForwardOutcome
{
    /// <summary>The next hop accepted it for every recipient sent to; it left the spool.</summary>
    Sent,

    /// <summary>The next hop refused it for good (5xx); it is <c>.bad</c> with the reason appended.</summary>
    Failed,

    /// <summary>Not delivered this time (connection failure, 4xx, timeout, cancellation); it is ready for the next attempt.</summary>
    Deferred,
}
