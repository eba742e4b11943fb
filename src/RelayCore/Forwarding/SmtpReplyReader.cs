// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Buffers;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MailKit.Net.Smtp;

namespace RelayCore.Forwarding;

/// <summary>
/// Reads SMTP replies (RFC 5321 section 4.2) from a next hop's stream for the pipelined transaction:
/// one pooled buffer, several replies per read when they arrive together.
/// </summary>
/// <remarks>
/// A reply line must fit the buffer (RFC 5321 allows 512 octets) and a reply may have at most
/// <see cref="MaxLines"/> lines: a next hop that sends more is broken, not patient.
/// </remarks>
internal sealed class SmtpReplyReader : IDisposable
{
    private const int BufferSize = 4096;
    private const int MaxLines = 100;

    private readonly ProtocolTranscript _transcript;
    private readonly TimeSpan _timeout;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _start;
    private int _end;

    /// <param name="transcript">Where the replies are logged.</param>
    /// <param name="timeout">How long each read may wait: the deadline is set to it before every read.</param>
    internal SmtpReplyReader(ProtocolTranscript transcript, TimeSpan timeout)
    {
        _transcript = transcript;
        _timeout = timeout;
    }

    /// <summary>Whether bytes the next hop sent wait unread after the replies read so far: after a transaction, more replies than commands.</summary>
    internal bool HasUnreadInput => _end > _start;

    /// <summary>Reads one whole reply: its code and its text (the lines after the code, joined with LF, as MailKit reports them).</summary>
    /// <exception cref="SmtpProtocolException">The next hop closed the connection or sent something that is not a reply.</exception>
    /// <exception cref="IOException">The connection broke.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="deadline"/> was cancelled or ran out while waiting.</exception>
    internal async Task<(int Code, string Text)> ReadAsync(Stream stream, CancellationTokenSource deadline)
    {
        int code = 0;
        string text = null;
        StringBuilder lines = null;
        for (int count = 1; ; count++)
        {
            int lineFeed;
            while ((lineFeed = IndexOfLineFeed()) < 0)
            {
                await FillAsync(stream, deadline).ConfigureAwait(false);
            }
            int length = lineFeed - _start;
            if (length > 0 && _buffer[lineFeed - 1] == '\r')
            {
                length--;
            }
            int lineCode = ParseCode(_buffer, _start, length);
            if (lineCode < 0 || (code != 0 && lineCode != code) || count > MaxLines)
            {
                throw new SmtpProtocolException("The next hop sent an invalid reply: " + Encoding.UTF8.GetString(_buffer, _start, Math.Min(length, 80)));
            }
            code = lineCode;
            bool isLast = length == 3 || _buffer[_start + 3] == ' ';
            string line = length > 4 ? Encoding.UTF8.GetString(_buffer, _start + 4, length - 4) : string.Empty;
            _start = lineFeed + 1;
            if (text == null)
            {
                text = line;
            }
            else
            {
                lines ??= new StringBuilder(text);
                lines.Append('\n').Append(line);
            }
            if (isLast)
            {
                return (code, lines?.ToString() ?? text);
            }
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_buffer != null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }

    private int IndexOfLineFeed() => _end > _start ? Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start) : -1;

    private async Task FillAsync(Stream stream, CancellationTokenSource deadline)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            throw new SmtpProtocolException("The next hop sent a reply line longer than " + _buffer.Length + " bytes.");
        }
        deadline.CancelAfter(_timeout);
        int read = await stream.ReadAsync(_buffer, _end, _buffer.Length - _end, deadline.Token).ConfigureAwait(false);
        if (read == 0)
        {
            throw new SmtpProtocolException("The next hop closed the connection.");
        }
        _transcript.LogServer(_buffer, _end, read);
        _end += read;
    }

    /// <summary>The reply code of a line ("250", "250-..." or "250 ..."); -1 when the line does not start like a reply.</summary>
    private static int ParseCode(byte[] line, int offset, int length)
    {
        if (length < 3 || (length > 3 && line[offset + 3] != ' ' && line[offset + 3] != '-'))
        {
            return -1;
        }
        int code = 0;
        for (int i = 0; i < 3; i++)
        {
            int digit = line[offset + i] - '0';
            if (digit < 0 || digit > 9)
            {
                return -1;
            }
            code = (code * 10) + digit;
        }
        return code >= 200 && code < 600 ? code : -1;
    }
}
