// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.Linq;
using System.Security.Cryptography;
using System.Text;

namespace RelayCmdlets.Tests.Durability;

/// <summary>
/// A message that proves its own integrity: a unique <c>X-Test-Seq</c> header, a body of a few KiB
/// and a last line holding the SHA-256 of the body before it, so a truncated or mixed-up content
/// file is detected without knowing what was sent.
/// </summary>
internal static class CrashTestMessage
{
    public const string SequenceHeader = "X-Test-Seq: ";
    private const string ChecksumPrefix = "checksum sha256 ";
    private const string LineAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ";

    /// <summary>The message's text as the client sends it before the terminating dot; no line starts with a dot.</summary>
    public static byte[] Build(int session, int number)
    {
        string sequence = Sequence(session, number);
        var random = new Random(session * 100_003 + number);
        var body = new StringBuilder();
        // 2 to 8 KiB: several content buffers' worth for some, less than one for others.
        int lines = random.Next(32, 128);
        for (int line = 0; line < lines; line++)
        {
            char[] text = Enumerable.Range(0, 62).Select(_ => LineAlphabet[random.Next(LineAlphabet.Length)]).ToArray();
            body.Append(sequence).Append(' ').Append(text).Append("\r\n");
        }
        string bodyText = body.ToString();
        string message =
            "From: <load" + session.ToString(CultureInfo.InvariantCulture) + "@example.com>\r\n" +
            "To: <sink@example.net>\r\n" +
            "Subject: crash test " + sequence + "\r\n" +
            SequenceHeader + sequence + "\r\n" +
            "\r\n" +
            bodyText +
            ChecksumPrefix + Checksum(bodyText) + "\r\n";
        return Encoding.ASCII.GetBytes(message);
    }

    /// <summary>The unique marker of one message of one session.</summary>
    public static string Sequence(int session, int number) =>
        session.ToString(CultureInfo.InvariantCulture) + "-" + number.ToString(CultureInfo.InvariantCulture);

    /// <summary>Checks a spooled content file: one marker, and a body whose checksum line matches it.</summary>
    /// <param name="content">The content file's bytes (the server's Received header first).</param>
    /// <param name="sequence">The marker found, or null.</param>
    /// <returns>Null when whole; otherwise what is wrong.</returns>
    public static string Verify(byte[] content, out string sequence)
    {
        sequence = null;
        string text = Encoding.ASCII.GetString(content);
        int headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headerEnd < 0)
        {
            return "no end of headers in " + content.Length + " bytes";
        }
        string[] markers = text.Substring(0, headerEnd + 2).Split("\r\n").Where(l => l.StartsWith(SequenceHeader, StringComparison.Ordinal)).ToArray();
        if (markers.Length != 1)
        {
            return markers.Length + " " + SequenceHeader.Trim() + " headers";
        }
        sequence = markers[0].Substring(SequenceHeader.Length);
        int bodyStart = headerEnd + 4;
        int checksumLine = text.LastIndexOf("\r\n" + ChecksumPrefix, StringComparison.Ordinal);
        if (checksumLine < bodyStart - 2 || !text.EndsWith("\r\n", StringComparison.Ordinal))
        {
            return "no checksum line at the end (truncated at " + content.Length + " bytes?)";
        }
        string body = text.Substring(bodyStart, checksumLine + 2 - bodyStart);
        string recorded = text.Substring(checksumLine + 2 + ChecksumPrefix.Length).TrimEnd('\r', '\n');
        string actual = Checksum(body);
        return recorded == actual ? null : "body checksum " + actual + " is not the recorded " + recorded;
    }

    private static string Checksum(string body) => Convert.ToHexString(SHA256.HashData(Encoding.ASCII.GetBytes(body)));
}
