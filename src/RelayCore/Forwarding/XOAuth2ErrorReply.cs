// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Text;
using System.Text.Json;

namespace RelayCore.Forwarding;

/// <summary>
/// The error a next hop gives when it refuses an XOAUTH2 token: a 334 challenge carrying base64 JSON
/// (Google's and Microsoft's <c>{"status":"401","schemes":"Bearer","scope":"..."}</c>), which the client
/// answers with an empty line before the 535.
/// </summary>
internal static class XOAuth2ErrorReply
{
    /// <summary>The decoded JSON of the last AUTH exchange's error challenge; null when the exchange had none.</summary>
    /// <param name="lines">A session's transcript lines.</param>
    internal static string FindLast(IReadOnlyList<TranscriptLine> lines)
    {
        for (int i = lines.Count - 1; i >= 0; i--)
        {
            TranscriptLine line = lines[i];
            if (line.FromClient)
            {
                if (line.Text.StartsWith("AUTH ", StringComparison.OrdinalIgnoreCase))
                {
                    return null;
                }
                continue;
            }
            (int? code, string text) = ProtocolTranscript.ParseReply(line.Text);
            if (code == 334 && TryDecode(text, out string json))
            {
                return json;
            }
        }
        return null;
    }

    /// <summary>Decodes a 334 challenge's text when it is base64 of a JSON object.</summary>
    /// <param name="challenge">The reply text after <c>334 </c>.</param>
    /// <param name="json">The JSON text.</param>
    /// <returns>False for anything else (an empty challenge, another mechanism's data).</returns>
    internal static bool TryDecode(string challenge, out string json)
    {
        json = null;
        if (string.IsNullOrWhiteSpace(challenge))
        {
            return false;
        }
        string text;
        try
        {
            text = Encoding.UTF8.GetString(Convert.FromBase64String(challenge.Trim())).Trim();
        }
        catch (FormatException)
        {
            return false;
        }
        if (!text.StartsWith("{", StringComparison.Ordinal))
        {
            return false;
        }
        try
        {
            using JsonDocument document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return false;
            }
        }
        catch (JsonException)
        {
            return false;
        }
        json = text;
        return true;
    }
}
