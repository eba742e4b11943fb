// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Forwarding;

/// <summary>A session with a next hop could not be opened: which step failed, the reply if there was one, and whether a later attempt can help.</summary>
/// <remarks>
/// Messages waiting for this next hop stay in the spool: a connection failure never fails a message
/// (E-MailRelay's rule). <see cref="IsTransient"/> tells an administrator whether waiting is enough or
/// the configuration (account, certificate, TLS mode) has to change first.
/// </remarks>
public sealed class ForwardingConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed and why, naming the next hop; never a secret.</param>
    /// <param name="step">The step that failed.</param>
    /// <param name="nextHop">The next hop, as <c>host:port</c> (with <c>@socks-host:port</c> when proxied).</param>
    /// <param name="replyCode">The server's reply code, or null when there was no reply.</param>
    /// <param name="replyText">The server's reply text, or null when there was no reply.</param>
    /// <param name="isTransient">Whether trying again later, unchanged, can succeed.</param>
    /// <param name="innerException">The underlying failure, or null.</param>
    public ForwardingConnectionException(string message, ConnectionStep step, string nextHop, int? replyCode, string replyText, bool isTransient, Exception innerException)
        : base(message, innerException)
    {
        Step = step;
        NextHop = nextHop ?? string.Empty;
        ReplyCode = replyCode;
        ReplyText = replyText;
        IsTransient = isTransient;
    }

    /// <summary>The step that failed.</summary>
    public ConnectionStep Step { get; }

    /// <summary>The next hop, as <c>host:port</c> (with <c>@socks-host:port</c> when proxied).</summary>
    public string NextHop { get; }

    /// <summary>The server's reply code (SMTP, or null for POP3's -ERR and for no reply at all).</summary>
    public int? ReplyCode { get; }

    /// <summary>The server's reply text; null when there was no reply.</summary>
    public string ReplyText { get; }

    /// <summary>
    /// Whether trying again later, unchanged, can succeed (refused or timed-out connections, 4xx replies);
    /// false when something must change first (a 5xx to AUTH, a certificate that does not verify, STARTTLS
    /// required but not offered, an account the next hop cannot use).
    /// </summary>
    public bool IsTransient { get; }
}
