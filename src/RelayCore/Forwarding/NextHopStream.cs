// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.Forwarding;

/// <summary>
/// The stream MailKit is given for a forwarding session: Relay's own connection (TCP or SOCKS), with
/// TLS that Relay negotiates, so the plaintext of the session is reachable by the pipelined transaction
/// in every TLS mode; each of MailKit's reads and writes is bounded by the response timeout.
/// </summary>
/// <remarks>
/// After STARTTLS, MailKit is connected again over the TLS stream so that it sends EHLO and learns the
/// extensions offered under TLS; it expects a greeting first, so the greeting the next hop sent at the
/// start of the connection is handed to it once more (and kept out of the transcript, which already has it).
/// </remarks>
internal sealed class NextHopStream : Stream
{
    private readonly IDisposable _connection;
    private readonly TimeSpan _timeout;
    private Stream _inner;
    private MemoryStream _greeting = new MemoryStream();
    private byte[] _greetingBytes = Array.Empty<byte>();
    private byte[] _replay;
    private int _replayOffset;
    private bool _isKeptOpen;

    /// <param name="inner">The connection, or the TLS stream over it.</param>
    /// <param name="connection">What closes the connection when a wait runs out.</param>
    /// <param name="timeout">The response timeout.</param>
    internal NextHopStream(Stream inner, IDisposable connection, TimeSpan timeout)
    {
        _inner = inner;
        _connection = connection;
        _timeout = timeout;
    }

    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Continues over TLS: later reads and writes go to <paramref name="tls"/>, and the next reads replay the greeting.</summary>
    /// <returns>The number of greeting bytes that will be replayed.</returns>
    internal int SwitchTo(Stream tls)
    {
        _inner = tls;
        _replay = _greetingBytes;
        _replayOffset = 0;
        return _replay.Length;
    }

    /// <summary>While true, a Dispose from MailKit (its disconnect before it connects again over TLS) leaves the connection open.</summary>
    internal bool IsKeptOpen
    {
        get => _isKeptOpen;
        set => _isKeptOpen = value;
    }

    /// <inheritdoc/>
    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        if (TryReplay(buffer, offset, count, out int replayed))
        {
            return replayed;
        }
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        using CancellationTokenRegistration abort = deadline.Token.Register(state => ((IDisposable)state).Dispose(), _connection);
        int read;
        try
        {
            read = await _inner.ReadAsync(buffer, offset, count, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception error) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("No reply within " + _timeout.TotalSeconds + " s.", error);
        }
        // Until the client first speaks, what arrives is the greeting: kept for MailKit's second connect after STARTTLS.
        _greeting?.Write(buffer, offset, read);
        return read;
    }

    /// <inheritdoc/>
    public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        EndGreeting();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_timeout);
        using CancellationTokenRegistration abort = deadline.Token.Register(state => ((IDisposable)state).Dispose(), _connection);
        try
        {
            await _inner.WriteAsync(buffer, offset, count, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception error) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException("Could not send within " + _timeout.TotalSeconds + " s.", error);
        }
    }

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    /// <inheritdoc/>
    /// <remarks>Relay drives MailKit asynchronously only; the synchronous path has the socket's own timeouts.</remarks>
    public override int Read(byte[] buffer, int offset, int count)
    {
        if (TryReplay(buffer, offset, count, out int replayed))
        {
            return replayed;
        }
        int read = _inner.Read(buffer, offset, count);
        _greeting?.Write(buffer, offset, read);
        return read;
    }

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count)
    {
        EndGreeting();
        _inner.Write(buffer, offset, count);
    }

    /// <inheritdoc/>
    public override void Flush() => _inner.Flush();

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    private bool TryReplay(byte[] buffer, int offset, int count, out int replayed)
    {
        replayed = 0;
        if (_replay == null || _replayOffset >= _replay.Length)
        {
            return false;
        }
        replayed = Math.Min(count, _replay.Length - _replayOffset);
        Buffer.BlockCopy(_replay, _replayOffset, buffer, offset, replayed);
        _replayOffset += replayed;
        return true;
    }

    private void EndGreeting()
    {
        if (_greeting != null)
        {
            _greetingBytes = FirstReply(_greeting.ToArray());
            _greeting = null;
        }
    }

    /// <summary>
    /// The greeting reply alone: what followed it before the client spoke came in clear, from the next hop or a man
    /// in the middle, and replayed after STARTTLS it would pass for replies of the TLS session (CVE-2011-0411).
    /// </summary>
    private static byte[] FirstReply(byte[] received)
    {
        int lineStart = 0;
        for (int i = 0; i < received.Length; i++)
        {
            if (received[i] != '\n')
            {
                continue;
            }
            // A reply's last line has no '-' after its code.
            if (i - lineStart <= 3 || received[lineStart + 3] != '-')
            {
                Array.Resize(ref received, i + 1);
                return received;
            }
            lineStart = i + 1;
        }
        return received;
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing && !_isKeptOpen)
        {
            _inner.Dispose();
            _connection.Dispose();
        }
        base.Dispose(disposing);
    }
}
