// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Smtp;

/// <summary>
/// Finds the end of DATA text (<c>CRLF.CRLF</c>) and removes dot-stuffing (RFC 5321 section
/// 4.5.2) in place, one buffer at a time, carrying its state across buffers.
/// </summary>
/// <remarks>
/// Output only ever shrinks the input (a dot is dropped), so it is compacted into the same buffer
/// and no second buffer is needed. A bare LF is kept as text, but only <c>CRLF.CRLF</c> ends the
/// data and only a dot after CRLF is stuffing: a server that also took <c>LF.LF</c> as the end
/// would let a client smuggle a second message past another MTA (CVE-2023-51764, RFC 5321
/// section 4.1.1.4).
/// </remarks>
internal struct DotUnstuffer
{
    private readonly int _maxLineLength;
    private Position _position;
    private long _lineLength;
    private bool _isAfterCrLf;
    private bool _isCrPending;

    internal DotUnstuffer(int maxLineLength)
    {
        _maxLineLength = maxLineLength;
        _position = Position.LineStart;
        _lineLength = 0;
        _isAfterCrLf = true;
        _isCrPending = false;
        IsLineTooLong = false;
    }

    private enum Position
    {
        LineStart,
        AfterLeadingDot,
        InLine,
    }

    /// <summary>Whether a text line was longer than the limit.</summary>
    internal bool IsLineTooLong { get; private set; }

    /// <summary>
    /// Consumes bytes from the start of <paramref name="data"/>, moving the unstuffed text to its
    /// front. Returns how many bytes were consumed; a CR right after a leading dot at the very end
    /// is left unconsumed so the next call sees it with what follows.
    /// </summary>
    internal int Process(Span<byte> data, out int outputLength, out bool isEnd)
    {
        int read = 0;
        int written = 0;
        isEnd = false;
        while (read < data.Length)
        {
            switch (_position)
            {
                case Position.LineStart:
                    _lineLength = 0;
                    _isCrPending = false;
                    if (data[read] == (byte)'.' && _isAfterCrLf)
                    {
                        // The leading dot is either stuffing or the start of the end marker: drop it.
                        read++;
                        _lineLength = 1;
                        _position = Position.AfterLeadingDot;
                    }
                    else
                    {
                        _position = Position.InLine;
                    }
                    break;
                case Position.AfterLeadingDot:
                    if (data[read] == (byte)'\r')
                    {
                        if (read + 1 == data.Length)
                        {
                            outputLength = written;
                            return read;
                        }
                        if (data[read + 1] == (byte)'\n')
                        {
                            isEnd = true;
                            outputLength = written;
                            return read + 2;
                        }
                    }
                    _position = Position.InLine;
                    break;
                default:
                    int newline = data.Slice(read).IndexOf((byte)'\n');
                    int length = newline < 0 ? data.Length - read : newline + 1;
                    if (newline >= 0)
                    {
                        _isAfterCrLf = newline > 0 ? data[read + newline - 1] == (byte)'\r' : _isCrPending;
                    }
                    else
                    {
                        _isCrPending = data[data.Length - 1] == (byte)'\r';
                    }
                    data.Slice(read, length).CopyTo(data.Slice(written));
                    read += length;
                    written += length;
                    _lineLength += length;
                    if (_lineLength > _maxLineLength)
                    {
                        IsLineTooLong = true;
                    }
                    if (newline >= 0)
                    {
                        _position = Position.LineStart;
                    }
                    break;
            }
        }
        outputLength = written;
        return read;
    }
}
