// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;

namespace RelayCore.Forwarding;

/// <summary>The outcome of forwarding one spooled message.</summary>
public sealed class ForwardResult
{
    /// <summary>Creates a result.</summary>
    public ForwardResult(
        string id,
        ForwardOutcome outcome,
        string nextHop,
        int? replyCode,
        string replyText,
        IReadOnlyList<string> acceptedRecipients,
        IReadOnlyList<string> rejectedRecipients,
        long bytes,
        TimeSpan elapsed)
    {
        Id = id;
        Outcome = outcome;
        NextHop = nextHop;
        ReplyCode = replyCode;
        ReplyText = replyText ?? string.Empty;
        AcceptedRecipients = acceptedRecipients ?? Array.Empty<string>();
        RejectedRecipients = rejectedRecipients ?? Array.Empty<string>();
        Bytes = bytes;
        Elapsed = elapsed;
    }

    /// <summary>The spool id of the message.</summary>
    public string Id { get; }

    /// <summary>Sent, Failed or Deferred.</summary>
    public ForwardOutcome Outcome { get; }

    /// <summary>The next hop it went to (or was meant for), as <c>host:port</c>.</summary>
    public string NextHop { get; }

    /// <summary>The next hop's reply code that decided the outcome; null when no reply was had (connection failure).</summary>
    public int? ReplyCode { get; }

    /// <summary>The reply text, or the local reason (connection refused, timeout) when there was no reply.</summary>
    public string ReplyText { get; }

    /// <summary>Recipients the next hop accepted.</summary>
    public IReadOnlyList<string> AcceptedRecipients { get; }

    /// <summary>Recipients the next hop refused.</summary>
    public IReadOnlyList<string> RejectedRecipients { get; }

    /// <summary>Content bytes sent (the spooled content file's size when sent).</summary>
    public long Bytes { get; }

    /// <summary>Time from the start of this message's transaction to its outcome.</summary>
    public TimeSpan Elapsed { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Id} {Outcome} {ReplyCode} {ReplyText}".TrimEnd();
}
