// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.Text;
using RelayCore.Forwarding;
using RelayCore.Hosting;

namespace RelayCore.Smtp;

/// <summary>Immediate mode (E-MailRelay's --immediate): the reply to DATA or BDAT LAST is the next hop's.</summary>
internal sealed partial class SmtpSession
{
    // A reply line is at most 512 octets with its CRLF (RFC 5321 section 4.5.3.1.5); the next hop's text is cut well inside.
    private const int MaxForeignTextLength = 400;

    /// <summary>The reply for a message forwarded before replying, from the next hop's verdict.</summary>
    internal static string ImmediateReply(string id, ImmediateOutcome outcome)
    {
        ForwardResult result = outcome.Result;
        if (result == null)
        {
            return outcome.IsWithdrawn
                ? "451 4.3.2 Service shutting down; message not accepted"
                : "250 2.0.0 OK id=" + id + " queued: the next hop has not answered yet";
        }
        string hopReply = Sanitize((result.ReplyCode?.ToString(CultureInfo.InvariantCulture) + " " + result.ReplyText).Trim());
        switch (result.Outcome)
        {
            case ForwardOutcome.Sent:
                string refused = result.RejectedRecipients.Count == 0 ? string.Empty
                    : "; " + result.RejectedRecipients.Count.ToString(CultureInfo.InvariantCulture) + " recipient(s) refused, kept as bad";
                return "250 2.0.0 OK id=" + id + " forwarded to " + Sanitize(result.NextHop) + ": " + hopReply + refused;
            case ForwardOutcome.Failed:
                // Even when its bad copy could not be removed: a bad message is never retried on its own.
                return ForeignReply(result, 5, "554", "5.0.0");
            default:
                if (!outcome.IsWithdrawn)
                {
                    // Another forwarder holds the copy: the spool has the message, so it is accepted.
                    return "250 2.0.0 OK id=" + id + " queued: the next hop said " + hopReply;
                }
                return result.ReplyCode == null
                    ? "451 4.4.1 Next hop " + Sanitize(result.NextHop) + " not reached: " + Sanitize(result.ReplyText)
                    : ForeignReply(result, 4, "451", "4.4.0");
        }
    }

    /// <summary>The next hop's own refusal, passed on: its code when it is of the expected class, its text with an enhanced code.</summary>
    private static string ForeignReply(ForwardResult result, int replyClass, string fallbackCode, string fallbackStatus)
    {
        int? code = result.ReplyCode;
        string text = Sanitize(result.ReplyText);
        string replyCode = code != null && code.Value / 100 == replyClass ? code.Value.ToString(CultureInfo.InvariantCulture) : fallbackCode;
        // ENHANCEDSTATUSCODES is offered, so every reply carries one (RFC 2034 section 4).
        bool hasStatus = text.Length > 5 && text[0] == (char)('0' + replyClass) && text[1] == '.' && char.IsDigit(text[2]);
        return replyCode + " " + (hasStatus ? text : fallbackStatus + " " + text).TrimEnd();
    }

    /// <summary>Another server's text made safe for one reply line: printable ASCII only, cut to length.</summary>
    private static string Sanitize(string text)
    {
        var safe = new StringBuilder(Math.Min(text?.Length ?? 0, MaxForeignTextLength));
        foreach (char c in text ?? string.Empty)
        {
            if (safe.Length == MaxForeignTextLength)
            {
                break;
            }
            safe.Append(c >= ' ' && c < 0x7f ? c : c == '\t' || c == '\r' || c == '\n' ? ' ' : '?');
        }
        return safe.ToString();
    }
}
