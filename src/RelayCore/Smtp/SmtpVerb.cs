// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Smtp;

/// <summary>The SMTP commands the server knows (RFC 5321 section 4.1 and the extensions it offers).</summary>
internal enum SmtpVerb
{
    Unknown,
    Ehlo,
    Helo,
    Mail,
    Rcpt,
    Data,
    Bdat,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth,
}

/// <summary>Splits a command line into its verb and argument without allocating.</summary>
internal static class SmtpVerbParser
{
    private static readonly byte[] s_startTls = { (byte)'s', (byte)'t', (byte)'a', (byte)'r', (byte)'t', (byte)'t', (byte)'l', (byte)'s' };

    /// <summary>Finds the verb (case-insensitive) and the argument after one or more spaces.</summary>
    internal static SmtpVerb Parse(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> argument)
    {
        int space = line.IndexOf((byte)' ');
        ReadOnlySpan<byte> word = space < 0 ? line : line.Slice(0, space);
        argument = space < 0 ? ReadOnlySpan<byte>.Empty : Trim(line.Slice(space + 1));
        if (word.Length == 4)
        {
            // Fold ASCII letters to lower case and compare the four bytes as one number.
            int folded = (word[0] | 0x20) | ((word[1] | 0x20) << 8) | ((word[2] | 0x20) << 16) | ((word[3] | 0x20) << 24);
            return folded switch
            {
                0x6f6c6865 => SmtpVerb.Ehlo,
                0x6f6c6568 => SmtpVerb.Helo,
                0x6c69616d => SmtpVerb.Mail,
                0x74706372 => SmtpVerb.Rcpt,
                0x61746164 => SmtpVerb.Data,
                0x74616462 => SmtpVerb.Bdat,
                0x74657372 => SmtpVerb.Rset,
                0x706f6f6e => SmtpVerb.Noop,
                0x74697571 => SmtpVerb.Quit,
                0x79667276 => SmtpVerb.Vrfy,
                0x6e707865 => SmtpVerb.Expn,
                0x706c6568 => SmtpVerb.Help,
                0x68747561 => SmtpVerb.Auth,
                _ => SmtpVerb.Unknown,
            };
        }
        if (word.Length == s_startTls.Length)
        {
            for (int i = 0; i < word.Length; i++)
            {
                if ((word[i] | 0x20) != s_startTls[i])
                {
                    return SmtpVerb.Unknown;
                }
            }
            return SmtpVerb.StartTls;
        }
        return SmtpVerb.Unknown;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> text)
    {
        int start = 0;
        int end = text.Length;
        while (start < end && (text[start] == (byte)' ' || text[start] == (byte)'\t'))
        {
            start++;
        }
        while (end > start && (text[end - 1] == (byte)' ' || text[end - 1] == (byte)'\t'))
        {
            end--;
        }
        return text.Slice(start, end - start);
    }
}
