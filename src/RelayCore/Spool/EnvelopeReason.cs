// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Spool;

/// <summary>One failure recorded in an envelope: an <c>X-MailRelay-Reason</c> line and its <c>ReasonCode</c>.</summary>
public sealed class EnvelopeReason
{
    /// <summary>Creates a reason.</summary>
    /// <param name="text">The reason text.</param>
    /// <param name="code">The SMTP reply code, or null when none was recorded.</param>
    public EnvelopeReason(string text, int? code)
    {
        Text = text;
        Code = code;
    }

    /// <summary>The reason text.</summary>
    public string Text { get; }

    /// <summary>The SMTP reply code, or null when none was recorded.</summary>
    public int? Code { get; }
}
