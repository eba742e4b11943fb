// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.Smtp;

/// <summary>
/// A session's read side: a pooled 4 KiB buffer over the connection's stream, split into command
/// lines (with a hard length cap), DATA text (dot-unstuffed in place) or BDAT chunks.
/// </summary>
/// <remarks>
/// The buffer is returned to the pool whenever it is empty and the session waits for a command,
/// so an idle connection holds no buffer; it grows past 4 KiB only for one long command line.
/// </remarks>
internal sealed class SmtpInputBuffer : IDisposable
{
    internal const int BufferSize = 4096;

    private readonly int _maxLineLength;
    private byte[] _buffer;
    private int _start;
    private int _end;

    internal SmtpInputBuffer(int maxLineLength)
    {
        _maxLineLength = maxLineLength;
    }

    /// <summary>Bytes received and not yet consumed.</summary>
    internal int Buffered => _end - _start;

    /// <summary>The buffer array, for writing out the region <see cref="TakeData"/> or <see cref="TakeChunk"/> names.</summary>
    internal byte[] Array => _buffer;

    /// <summary>Takes the next complete line, without its CRLF or bare LF, if one is buffered.</summary>
    /// <exception cref="SmtpLineTooLongException">The line, with its end, is longer than the limit.</exception>
    internal bool TryReadLine(out ReadOnlySpan<byte> line)
    {
        line = default;
        if (_start == _end)
        {
            return false;
        }
        ReadOnlySpan<byte> available = _buffer.AsSpan(_start, _end - _start);
        int newline = available.IndexOf((byte)'\n');
        if (newline < 0)
        {
            if (available.Length >= _maxLineLength)
            {
                throw new SmtpLineTooLongException(_maxLineLength);
            }
            return false;
        }
        if (newline + 1 > _maxLineLength)
        {
            throw new SmtpLineTooLongException(_maxLineLength);
        }
        int length = newline > 0 && available[newline - 1] == (byte)'\r' ? newline - 1 : newline;
        line = available.Slice(0, length);
        _start += newline + 1;
        return true;
    }

    /// <summary>Unstuffs buffered DATA text in place; the text to store is <c>Array[start..start+length]</c>.</summary>
    /// <returns>Whether the end-of-data line was reached.</returns>
    internal bool TakeData(ref DotUnstuffer unstuffer, out int start, out int length)
    {
        start = _start;
        int consumed = unstuffer.Process(_buffer.AsSpan(_start, _end - _start), out length, out bool isEnd);
        _start += consumed;
        return isEnd;
    }

    /// <summary>Takes up to <paramref name="remaining"/> buffered bytes of a BDAT chunk: <c>Array[start..start+length]</c>.</summary>
    internal void TakeChunk(long remaining, out int start, out int length)
    {
        start = _start;
        length = (int)Math.Min(remaining, _end - _start);
        _start += length;
    }

    /// <summary>Forgets buffered input: at STARTTLS, anything sent before the handshake is an injection attempt.</summary>
    internal void DiscardBuffered()
    {
        _start = 0;
        _end = 0;
    }

    /// <summary>Reads more bytes from the stream.</summary>
    /// <param name="stream">The connection.</param>
    /// <param name="isIdle">Whether the session waits for a command: an empty buffer is then released while waiting.</param>
    /// <param name="cancellationToken">The read's deadline.</param>
    /// <returns>False when the client closed the connection.</returns>
    internal async Task<bool> FillAsync(Stream stream, bool isIdle, CancellationToken cancellationToken)
    {
        if (_start == _end)
        {
            _start = 0;
            _end = 0;
            if (isIdle)
            {
                Release();
#if NET
                // A zero-byte read waits for data without pinning a buffer (Socket and SslStream support it).
                await stream.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
#endif
            }
        }
        else if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_buffer == null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        }
        else if (_end == _buffer.Length)
        {
            // Only a command line longer than the buffer gets here; TryReadLine caps it.
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Math.Min(_maxLineLength + 1, _buffer.Length * 4)));
            Buffer.BlockCopy(_buffer, 0, larger, 0, _end);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }
#if NET
        int count = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
#else
        int count = await stream.ReadAsync(_buffer, _end, _buffer.Length - _end, cancellationToken).ConfigureAwait(false);
#endif
        _end += count;
        return count > 0;
    }

    /// <summary>Returns the buffer to the pool.</summary>
    public void Dispose()
    {
        _start = 0;
        _end = 0;
        Release();
    }

    private void Release()
    {
        if (_buffer != null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }
    }
}
