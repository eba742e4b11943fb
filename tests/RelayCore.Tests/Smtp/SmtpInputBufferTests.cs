// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Smtp;
using Xunit;

namespace RelayCore.Tests.Smtp;

public class SmtpInputBufferTests
{
    [Fact]
    public async Task TryReadLine_CrlfSplitAcrossReads_ReturnsWholeLines()
    {
        var stream = new ChunkedStream("NOOP\r", "\nEHLO x\r\n");
        using var input = new SmtpInputBuffer(1000);

        List<string> lines = await ReadAllLinesAsync(input, stream);

        Assert.Equal(new[] { "NOOP", "EHLO x" }, lines);
    }

    [Fact]
    public async Task TryReadLine_BareLf_EndsTheLine()
    {
        var stream = new ChunkedStream("NOOP\nQUIT\n");
        using var input = new SmtpInputBuffer(1000);

        List<string> lines = await ReadAllLinesAsync(input, stream);

        Assert.Equal(new[] { "NOOP", "QUIT" }, lines);
    }

    [Fact]
    public async Task TryReadLine_LineExactlyAtLimit_IsAccepted()
    {
        string line = new string('x', 598);
        var stream = new ChunkedStream(line + "\r\n");
        using var input = new SmtpInputBuffer(600);

        List<string> lines = await ReadAllLinesAsync(input, stream);

        Assert.Equal(new[] { line }, lines);
    }

    [Fact]
    public async Task TryReadLine_LineOneOverLimit_Throws()
    {
        var stream = new ChunkedStream(new string('x', 599) + "\r\n");
        using var input = new SmtpInputBuffer(600);

        await Assert.ThrowsAsync<SmtpLineTooLongException>(() => ReadAllLinesAsync(input, stream));
    }

    [Fact]
    public async Task TryReadLine_UnterminatedLineOverLimit_ThrowsBeforeEnd()
    {
        var stream = new ChunkedStream(new string('x', 700));
        using var input = new SmtpInputBuffer(600);

        await Assert.ThrowsAsync<SmtpLineTooLongException>(() => ReadAllLinesAsync(input, stream));
    }

    [Fact]
    public async Task TryReadLine_LineLongerThanBuffer_GrowsUpToLimit()
    {
        string line = "AUTH PLAIN " + new string('A', 9000);
        var stream = new ChunkedStream(line.Substring(0, 3000), line.Substring(3000) + "\r\nNOOP\r\n");
        using var input = new SmtpInputBuffer(10000);

        List<string> lines = await ReadAllLinesAsync(input, stream);

        Assert.Equal(new[] { line, "NOOP" }, lines);
    }

    [Fact]
    public async Task DiscardBuffered_PipelinedInput_IsDropped()
    {
        var stream = new ChunkedStream("STARTTLS\r\nINJECTED\r\n");
        using var input = new SmtpInputBuffer(1000);
        await input.FillAsync(stream, isIdle: true, CancellationToken.None);
        Assert.True(input.TryReadLine(out ReadOnlySpan<byte> first));
        Assert.Equal("STARTTLS", Encoding.ASCII.GetString(first));

        input.DiscardBuffered();

        Assert.Equal(0, input.Buffered);
        Assert.False(input.TryReadLine(out _));
    }

    private static async Task<List<string>> ReadAllLinesAsync(SmtpInputBuffer input, Stream stream)
    {
        var lines = new List<string>();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            while (input.TryReadLine(out ReadOnlySpan<byte> line))
            {
                lines.Add(Encoding.ASCII.GetString(line));
            }
            if (!await input.FillAsync(stream, isIdle: true, cancel.Token))
            {
                return lines;
            }
        }
    }

    /// <summary>A read-only stream that returns each given piece from a separate read.</summary>
    private sealed class ChunkedStream : Stream
    {
        private readonly Queue<byte[]> _pieces = new Queue<byte[]>();

        internal ChunkedStream(params string[] pieces)
        {
            foreach (string piece in pieces)
            {
                _pieces.Enqueue(Encoding.ASCII.GetBytes(piece));
            }
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (buffer.Length == 0 || _pieces.Count == 0)
            {
                return 0;
            }
            byte[] piece = _pieces.Peek();
            int count = Math.Min(piece.Length, buffer.Length);
            piece.AsSpan(0, count).CopyTo(buffer);
            _pieces.Dequeue();
            if (count < piece.Length)
            {
                var rest = new Queue<byte[]>();
                rest.Enqueue(piece[count..]);
                while (_pieces.Count > 0)
                {
                    rest.Enqueue(_pieces.Dequeue());
                }
                while (rest.Count > 0)
                {
                    _pieces.Enqueue(rest.Dequeue());
                }
            }
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            new ValueTask<int>(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
