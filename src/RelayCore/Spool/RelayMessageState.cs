// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Spool;

/// <summary>The state of a spooled message, carried by its envelope file's name suffix.</summary>
public enum RelayMessageState
{
    /// <summary>Committed and waiting to be forwarded: <c>&lt;id&gt;.envelope</c>.</summary>
    Ready,

    /// <summary>Being received and not yet committed: <c>&lt;id&gt;.envelope.new</c>.</summary>
    New,

    /// <summary>Claimed by one forwarding agent: <c>&lt;id&gt;.envelope.busy</c>.</summary>
    Busy,

    /// <summary>Forwarding or filtering failed; the reasons are inside: <c>&lt;id&gt;.envelope.bad</c>.</summary>
    Bad,
}
