// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using RelayCore.Forwarding;

namespace RelayCmdlets;

/// <summary>
/// The exception in the error record Invoke-RelayForward writes for a message that was not
/// delivered; <see cref="Result"/> holds the whole outcome (reply code and text, recipients).
/// </summary>
public sealed class RelayForwardException : Exception
{
    /// <summary>Creates the exception for one message's result.</summary>
    /// <param name="result">The Failed or Deferred result.</param>
    public RelayForwardException(ForwardResult result)
        : base(Describe(result))
    {
        Result = result;
    }

    /// <summary>The message's forwarding result.</summary>
    public ForwardResult Result { get; }

    private static string Describe(ForwardResult result)
    {
        string reply = result.ReplyCode.HasValue ? result.ReplyCode + " " + result.ReplyText : result.ReplyText;
        return result.Outcome == ForwardOutcome.Failed
            ? "Message " + result.Id + " was refused by " + result.NextHop + " (" + reply + "); it is now Bad."
            : "Message " + result.Id + " was not forwarded to " + result.NextHop + " (" + reply + "); it stays Ready for the next attempt.";
    }
}
