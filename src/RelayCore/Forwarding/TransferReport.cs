// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.Linq;

namespace RelayCore.Forwarding;

/// <summary>What one SMTP transaction of a spooled message came to, on a connection that is still usable.</summary>
internal sealed class TransferReport
{
    private TransferReport(bool isSent, int? replyCode, string replyText, IReadOnlyList<string> accepted, IReadOnlyList<RecipientRejection> rejected)
    {
        IsSent = isSent;
        ReplyCode = replyCode;
        ReplyText = replyText ?? string.Empty;
        Accepted = accepted;
        Rejected = rejected;
    }

    /// <summary>Whether the next hop took the message (for every recipient, or for the accepted ones in forward-to-some mode).</summary>
    internal bool IsSent { get; }

    /// <summary>The reply code that decided it; null when it was decided here (no reply, e.g. a missing extension).</summary>
    internal int? ReplyCode { get; }

    /// <summary>The reply text, or the local reason.</summary>
    internal string ReplyText { get; }

    /// <summary>Recipients the next hop accepted.</summary>
    internal IReadOnlyList<string> Accepted { get; }

    /// <summary>Recipients the next hop refused, with its reply.</summary>
    internal IReadOnlyList<RecipientRejection> Rejected { get; }

    /// <summary>Whether the refusal is for good: a 5xx reply, or a reason found here that no retry changes.</summary>
    internal bool IsPermanent => !IsSent && (ReplyCode == null || ReplyCode >= 500);

    internal static TransferReport Sent(int replyCode, string replyText, IReadOnlyList<string> accepted, IReadOnlyList<RecipientRejection> rejected) =>
        new TransferReport(true, replyCode, replyText, accepted, rejected);

    internal static TransferReport Refused(int? replyCode, string replyText, IReadOnlyList<string> accepted, IReadOnlyList<RecipientRejection> rejected) =>
        new TransferReport(false, replyCode, replyText, accepted, rejected);

    internal IReadOnlyList<string> RejectedAddresses => Rejected.Select(rejection => rejection.Address).ToList();
}
