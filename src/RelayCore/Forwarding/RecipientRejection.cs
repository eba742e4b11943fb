// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Forwarding;

/// <summary>One RCPT TO the next hop refused.</summary>
internal sealed class RecipientRejection
{
    internal RecipientRejection(string address, int code, string text)
    {
        Address = address;
        Code = code;
        Text = text ?? string.Empty;
    }

    /// <summary>The recipient as the envelope holds it.</summary>
    internal string Address { get; }

    /// <summary>The reply code.</summary>
    internal int Code { get; }

    /// <summary>The reply text.</summary>
    internal string Text { get; }
}
