// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Buffers;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.Smtp;

/// <summary>
/// Collects a session's replies and sends them in one write when the client's input is drained,
/// so a pipelined batch (RFC 2920) is answered in one packet.
/// </summary>
internal sealed class SmtpReplyWriter : IDisposable
{
    private const int InitialSize = 512;
    private static readonly Encoding s_utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    private byte[] _buffer;
    private int _length;

    /// <summary>Whether replies are waiting to be sent.</summary>
    internal bool HasPending => _length > 0;

    /// <summary>Queues one reply line; CRLF is added.</summary>
    internal void Write(string line)
    {
        int needed = _length + s_utf8.GetMaxByteCount(line.Length) + 2;
        if (_buffer == null || needed > _buffer.Length)
        {
            byte[] larger = ArrayPool<byte>.Shared.Rent(Math.Max(InitialSize, needed));
            if (_buffer != null)
            {
                Buffer.BlockCopy(_buffer, 0, larger, 0, _length);
                ArrayPool<byte>.Shared.Return(_buffer);
            }
            _buffer = larger;
        }
        _length += s_utf8.GetBytes(line, 0, line.Length, _buffer, _length);
        _buffer[_length++] = (byte)'\r';
        _buffer[_length++] = (byte)'\n';
    }

    /// <summary>Sends the queued replies and releases the buffer.</summary>
    internal async Task FlushAsync(Stream stream, CancellationToken cancellationToken)
    {
        if (_length == 0)
        {
            return;
        }
        int length = _length;
        _length = 0;
        await stream.WriteAsync(_buffer, 0, length, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        Release();
    }

    /// <summary>Forgets queued replies and returns the buffer to the pool.</summary>
    public void Dispose()
    {
        _length = 0;
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
