// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Text;

namespace RelayCore.Auth;

/// <summary>xtext encoding (RFC 3461 section 4), as used in envelopes and secrets files.</summary>
/// <remarks>
/// Bytes outside <c>!</c>..<c>~</c>, and <c>+</c> and <c>=</c>, are written <c>+XX</c> with upper-case
/// hex. Text is taken as UTF-8, so non-ASCII user names survive the round trip.
/// </remarks>
public static class XText
{
    private const string HexDigits = "0123456789ABCDEF";

    /// <summary>Encodes text as xtext.</summary>
    /// <param name="text">The text to encode.</param>
    /// <returns>The xtext form.</returns>
    public static string Encode(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        var encoded = new StringBuilder(bytes.Length + 8);
        foreach (byte b in bytes)
        {
            if (b >= '!' && b <= '~' && b != '+' && b != '=')
            {
                encoded.Append((char)b);
            }
            else
            {
                encoded.Append('+').Append(HexDigits[b >> 4]).Append(HexDigits[b & 0xF]);
            }
        }
        return encoded.ToString();
    }

    /// <summary>Decodes xtext; a <c>+</c> not followed by two hex digits is kept as it is.</summary>
    /// <param name="xtext">The xtext to decode.</param>
    /// <returns>The decoded text.</returns>
    public static string Decode(string xtext)
    {
        if (string.IsNullOrEmpty(xtext))
        {
            return string.Empty;
        }
        var bytes = new byte[xtext.Length * 3];
        int count = 0;
        for (int i = 0; i < xtext.Length; i++)
        {
            char c = xtext[i];
            if (c == '+' && i + 2 < xtext.Length && TryHex(xtext[i + 1], out int high) && TryHex(xtext[i + 2], out int low))
            {
                bytes[count++] = (byte)((high << 4) | low);
                i += 2;
            }
            else
            {
                // A surrogate pair is one code point: encode both halves together.
                int length = char.IsHighSurrogate(c) && i + 1 < xtext.Length && char.IsLowSurrogate(xtext[i + 1]) ? 2 : 1;
                count += Encoding.UTF8.GetBytes(xtext, i, length, bytes, count);
                i += length - 1;
            }
        }
        return Encoding.UTF8.GetString(bytes, 0, count);
    }

    private static bool TryHex(char c, out int value)
    {
        value = HexDigits.IndexOf(char.ToUpperInvariant(c));
        return value >= 0;
    }
}
