// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Text;

namespace RelayCore.Submission;

/// <summary>One header field as raw bytes: its name, its (possibly folded) value and the whole field with its CRLFs.</summary>
internal sealed class HeaderField
{
    private HeaderField(string name, byte[] rawValue, byte[] bytes)
    {
        Name = name;
        RawValue = rawValue;
        Bytes = bytes;
    }

    /// <summary>The field name, as written.</summary>
    internal string Name { get; }

    /// <summary>The bytes after the colon, folding included.</summary>
    internal byte[] RawValue { get; }

    /// <summary>The whole field, continuation lines and line ends included, to copy as it is.</summary>
    internal byte[] Bytes { get; }

    /// <summary>Splits a CRLF header block into fields (RFC 5322 section 2.2: a line starting with white space continues the field).</summary>
    /// <remarks>A line without a colon is kept as a nameless field, so copying the fields reproduces the block exactly.</remarks>
    internal static List<HeaderField> Split(byte[] header)
    {
        var fields = new List<HeaderField>();
        int start = 0;
        while (start < header.Length)
        {
            int end = start;
            do
            {
                int lineEnd = Array.IndexOf(header, (byte)'\n', end);
                end = lineEnd < 0 ? header.Length : lineEnd + 1;
            }
            while (end < header.Length && (header[end] == ' ' || header[end] == '\t'));
            fields.Add(Create(header, start, end - start));
            start = end;
        }
        return fields;
    }

    private static HeaderField Create(byte[] header, int offset, int count)
    {
        var bytes = new byte[count];
        Buffer.BlockCopy(header, offset, bytes, 0, count);
        int colon = Array.IndexOf(bytes, (byte)':');
        if (colon < 0)
        {
            return new HeaderField(string.Empty, Array.Empty<byte>(), bytes);
        }
        var rawValue = new byte[count - colon - 1];
        Buffer.BlockCopy(bytes, colon + 1, rawValue, 0, rawValue.Length);
        return new HeaderField(Encoding.ASCII.GetString(bytes, 0, colon).Trim(), rawValue, bytes);
    }
}
