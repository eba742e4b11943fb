// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MailKit.Net.Smtp;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using Xunit;

namespace RelayCore.Tests.Forwarding;

public sealed class SmtpReplyReaderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4096)]
    public async Task ReadAsync_PipelinedRepliesSplitAcrossReads_EachReplyWhole(int readSize)
    {
        using var stream = new SlicedStream("250 2.1.0 OK\r\n250-first\r\n250 second\r\n550 5.1.1 no such user\r\n354 go ahead\r\n", readSize);
        using var reader = new SmtpReplyReader(Transcript(), Timeout);
        using var deadline = new CancellationTokenSource();

        var replies = new[]
        {
            await reader.ReadAsync(stream, deadline),
            await reader.ReadAsync(stream, deadline),
            await reader.ReadAsync(stream, deadline),
            await reader.ReadAsync(stream, deadline),
        };

        Assert.Equal((250, "2.1.0 OK"), replies[0]);
        Assert.Equal((250, "first\nsecond"), replies[1]);
        Assert.Equal((550, "5.1.1 no such user"), replies[2]);
        Assert.Equal((354, "go ahead"), replies[3]);
    }

    [Theory]
    [InlineData("250\r\n", 250, "")]
    [InlineData("421 closing\n", 421, "closing")]
    public async Task ReadAsync_BareCodeOrBareLineFeed_Accepted(string wire, int code, string text)
    {
        using var stream = new SlicedStream(wire, 4096);
        using var reader = new SmtpReplyReader(Transcript(), Timeout);
        using var deadline = new CancellationTokenSource();

        Assert.Equal((code, text), await reader.ReadAsync(stream, deadline));
    }

    [Theory]
    [InlineData("hello there\r\n")]
    [InlineData("25 short\r\n")]
    [InlineData("250-one\r\n251 other code\r\n")]
    [InlineData("2500 no separator\r\n")]
    public async Task ReadAsync_NotAReply_ThrowsProtocolException(string wire)
    {
        using var stream = new SlicedStream(wire, 4096);
        using var reader = new SmtpReplyReader(Transcript(), Timeout);
        using var deadline = new CancellationTokenSource();

        await Assert.ThrowsAsync<SmtpProtocolException>(() => reader.ReadAsync(stream, deadline));
    }

    [Fact]
    public async Task ReadAsync_ConnectionClosedMidReply_ThrowsProtocolException()
    {
        using var stream = new SlicedStream("250-more to come\r\n250 and", 4096);
        using var reader = new SmtpReplyReader(Transcript(), Timeout);
        using var deadline = new CancellationTokenSource();

        await Assert.ThrowsAsync<SmtpProtocolException>(() => reader.ReadAsync(stream, deadline));
    }

    [Fact]
    public async Task ReadAsync_LineLongerThanTheBuffer_ThrowsProtocolException()
    {
        using var stream = new SlicedStream("250 " + new string('x', 5000) + "\r\n", 4096);
        using var reader = new SmtpReplyReader(Transcript(), Timeout);
        using var deadline = new CancellationTokenSource();

        await Assert.ThrowsAsync<SmtpProtocolException>(() => reader.ReadAsync(stream, deadline));
    }

    internal static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    internal static ProtocolTranscript Transcript() => new ProtocolTranscript(null, RelayLogLevel.Information, string.Empty) { IsRecording = false };

    /// <summary>A stream that hands out its bytes at most <c>sliceSize</c> at a time, as a socket may.</summary>
    private sealed class SlicedStream : MemoryStream
    {
        private readonly int _sliceSize;

        internal SlicedStream(string text, int sliceSize)
            : base(Encoding.ASCII.GetBytes(text)) => _sliceSize = sliceSize;

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, _sliceSize), cancellationToken);
    }
}
