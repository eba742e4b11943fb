// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;

namespace RelayCore.Smtp;

/// <summary>The argument of MAIL or RCPT: a path in angle brackets and ESMTP parameters (RFC 5321 section 4.1.2).</summary>
internal sealed class SmtpPath
{
    private SmtpPath(string address, List<KeyValuePair<string, string>> parameters)
    {
        Address = address;
        Parameters = parameters;
    }

    /// <summary>The mailbox without brackets (a source route removed); empty for <c>&lt;&gt;</c>.</summary>
    internal string Address { get; }

    /// <summary>The parameters in order; keys upper case, a value null when the parameter has none.</summary>
    internal List<KeyValuePair<string, string>> Parameters { get; }

    /// <summary>Parses <c>FROM:&lt;a@b&gt; KEY=VALUE ...</c> (or <c>TO:</c>); lenient about spaces and missing brackets.</summary>
    internal static bool TryParse(string argument, string keyword, out SmtpPath path)
    {
        path = null;
        if (!argument.StartsWith(keyword, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        string rest = argument.Substring(keyword.Length).TrimStart();
        string address;
        string parameters;
        if (rest.StartsWith("<", StringComparison.Ordinal))
        {
            int close = FindClosingBracket(rest);
            if (close < 0)
            {
                return false;
            }
            address = rest.Substring(1, close - 1);
            parameters = rest.Substring(close + 1);
        }
        else
        {
            int space = rest.IndexOf(' ');
            address = space < 0 ? rest : rest.Substring(0, space);
            parameters = space < 0 ? string.Empty : rest.Substring(space);
        }
        if (address.StartsWith("@", StringComparison.Ordinal))
        {
            // A source route (<@a,@b:user@c>) is accepted and ignored, RFC 5321 section 3.3.
            int colon = address.IndexOf(':');
            address = colon < 0 ? address : address.Substring(colon + 1);
        }
        if (address.IndexOf(' ') >= 0 && !address.StartsWith("\"", StringComparison.Ordinal))
        {
            return false;
        }
        var list = new List<KeyValuePair<string, string>>();
        foreach (string parameter in parameters.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = parameter.IndexOf('=');
            list.Add(equals < 0
                ? new KeyValuePair<string, string>(parameter.ToUpperInvariant(), null)
                : new KeyValuePair<string, string>(parameter.Substring(0, equals).ToUpperInvariant(), parameter.Substring(equals + 1)));
        }
        path = new SmtpPath(address, list);
        return true;
    }

    private static int FindClosingBracket(string text)
    {
        bool quoted = false;
        for (int i = 1; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\\' && quoted)
            {
                i++;
            }
            else if (c == '"')
            {
                quoted = !quoted;
            }
            else if (c == '>' && !quoted)
            {
                return i;
            }
        }
        return -1;
    }
}
