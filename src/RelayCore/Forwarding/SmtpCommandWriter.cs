// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Buffers;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.Forwarding;

/// <summary>
/// Gathers what the pipelined transaction sends (commands, then content, dot-stuffed for DATA) in one
/// pooled buffer, so a group of commands, or a small message with its commands, reaches the socket in one write.
/// </summary>
/// <remarks>The buffer is written out only when full or flushed: memory stays at one buffer whatever the message size.</remarks>
internal sealed class SmtpCommandWriter : IDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly ProtocolTranscript _transcript;
    private readonly TimeSpan _timeout;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    private int _length;
    private bool _atLineStart = true;

    /// <param name="transcript">Where what is sent is logged.</param>
    /// <param name="timeout">How long each write may wait: the deadline is set to it before every write.</param>
    internal SmtpCommandWriter(ProtocolTranscript transcript, TimeSpan timeout)
    {
        _transcript = transcript;
        _timeout = timeout;
    }

    /// <summary>Appends a command line (CRLF added), written out first when it does not fit beside what is gathered.</summary>
    internal Task AppendCommandAsync(Stream stream, string command, CancellationTokenSource deadline)
    {
        int size = Encoding.UTF8.GetByteCount(command) + 2;
        if (size > _buffer.Length)
        {
            throw new ArgumentException("An SMTP command longer than " + _buffer.Length + " bytes.", nameof(command));
        }
        if (size <= _buffer.Length - _length)
        {
            AppendLine(command);
            return Task.CompletedTask;
        }
        return FlushThenAppendAsync(stream, command, deadline);
    }

    /// <summary>Starts message content: the next byte is at the start of a line.</summary>
    internal void BeginContent() => _atLineStart = true;

    /// <summary>Appends content bytes, doubling a dot that starts a line when <paramref name="dotStuff"/> (RFC 5321 section 4.5.2), writing out full buffers.</summary>
    internal async Task AppendContentAsync(Stream stream, byte[] bytes, int offset, int count, bool dotStuff, CancellationTokenSource deadline)
    {
        while (count > 0)
        {
            int taken = dotStuff ? CopyStuffed(bytes, offset, count) : CopyRaw(bytes, offset, count);
            offset += taken;
            count -= taken;
            if (count > 0)
            {
                await FlushAsync(stream, deadline).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Writes out what is gathered.</summary>
    internal async Task FlushAsync(Stream stream, CancellationTokenSource deadline)
    {
        if (_length == 0)
        {
            return;
        }
        _transcript.LogClient(_buffer, 0, _length);
        int length = _length;
        _length = 0;
        deadline.CancelAfter(_timeout);
        await stream.WriteAsync(_buffer, 0, length, deadline.Token).ConfigureAwait(false);
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

    private async Task FlushThenAppendAsync(Stream stream, string command, CancellationTokenSource deadline)
    {
        await FlushAsync(stream, deadline).ConfigureAwait(false);
        AppendLine(command);
    }

    private void AppendLine(string command)
    {
        _length += Encoding.UTF8.GetBytes(command, 0, command.Length, _buffer, _length);
        _buffer[_length++] = (byte)'\r';
        _buffer[_length++] = (byte)'\n';
    }

    private int CopyRaw(byte[] bytes, int offset, int count)
    {
        int taken = Math.Min(count, _buffer.Length - _length);
        Buffer.BlockCopy(bytes, offset, _buffer, _length, taken);
        _length += taken;
        return taken;
    }

    /// <summary>Copies whole runs up to and including each LF while they fit, with a dot added before a line's leading dot; returns the bytes consumed.</summary>
    private int CopyStuffed(byte[] bytes, int offset, int count)
    {
        int consumed = 0;
        while (consumed < count)
        {
            int room = _buffer.Length - _length;
            int position = offset + consumed;
            bool needsDot = _atLineStart && bytes[position] == '.';
            if (room < (needsDot ? 2 : 1))
            {
                break;
            }
            if (needsDot)
            {
                _buffer[_length++] = (byte)'.';
                room--;
            }
            int lineFeed = Array.IndexOf(bytes, (byte)'\n', position, count - consumed);
            int run = lineFeed < 0 ? count - consumed : lineFeed - position + 1;
            int taken = Math.Min(run, room);
            Buffer.BlockCopy(bytes, position, _buffer, _length, taken);
            _length += taken;
            consumed += taken;
            _atLineStart = taken == run && lineFeed >= 0;
        }
        return consumed;
    }
}
