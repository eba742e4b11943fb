// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Forwarding;

/// <summary>One line of a protocol transcript: when, who, and what (secrets masked).</summary>
internal readonly struct TranscriptLine
{
    internal TranscriptLine(TimeSpan at, bool fromClient, string text)
    {
        At = at;
        FromClient = fromClient;
        Text = text;
    }

    internal TimeSpan At { get; }

    internal bool FromClient { get; }

    internal string Text { get; }
}
