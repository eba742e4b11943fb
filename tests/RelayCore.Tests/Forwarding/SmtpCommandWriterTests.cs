// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using Xunit;

namespace RelayCore.Tests.Forwarding;

public sealed class SmtpCommandWriterTests
{
    [Theory]
    [InlineData(".leading\r\nmiddle\r\n.\r\n..two\r\n", "..leading\r\nmiddle\r\n..\r\n...two\r\n")]
    [InlineData("no dot. here\r\n x.\r\n", "no dot. here\r\n x.\r\n")]
    [InlineData("bare\n.lf\r\n", "bare\n..lf\r\n")]
    public async Task AppendContentAsync_DotStuffing_DoublesOnlyALineLeadingDot(string content, string expected)
    {
        using var output = new RecordingStream();
        using var writer = new SmtpCommandWriter(SmtpReplyReaderTests.Transcript(), SmtpReplyReaderTests.Timeout);
        using var deadline = new CancellationTokenSource();
        byte[] bytes = Encoding.ASCII.GetBytes(content);

        writer.BeginContent();
        await writer.AppendContentAsync(output, bytes, 0, bytes.Length, dotStuff: true, deadline);
        await writer.FlushAsync(output, deadline);

        Assert.Equal(expected, Encoding.ASCII.GetString(output.ToArray()));
    }

    [Fact]
    public async Task AppendContentAsync_DotLinesAcrossManyBuffers_StuffedExactlyInBoundedWrites()
    {
        var text = new StringBuilder();
        for (int line = 0; text.Length < 1024 * 1024; line++)
        {
            // Lines of varying length put a line-leading dot at every offset of the 64 KiB buffer sooner or later.
            text.Append('.').Append('y', line % 97).Append("\r\n");
        }
        byte[] content = Encoding.ASCII.GetBytes(text.ToString());
        using var output = new RecordingStream();
        using var writer = new SmtpCommandWriter(SmtpReplyReaderTests.Transcript(), SmtpReplyReaderTests.Timeout);
        using var deadline = new CancellationTokenSource();

        writer.BeginContent();
        for (int offset = 0; offset < content.Length; offset += 10000)
        {
            await writer.AppendContentAsync(output, content, offset, System.Math.Min(10000, content.Length - offset), dotStuff: true, deadline);
        }
        await writer.FlushAsync(output, deadline);

        Assert.Equal(text.ToString().Replace("\n.", "\n..").Insert(0, "."), Encoding.ASCII.GetString(output.ToArray()));
        Assert.All(output.Writes, size => Assert.InRange(size, 1, 64 * 1024));
    }

    [Fact]
    public async Task AppendCommandAsync_GroupOfCommands_OneWrite()
    {
        using var output = new RecordingStream();
        using var writer = new SmtpCommandWriter(SmtpReplyReaderTests.Transcript(), SmtpReplyReaderTests.Timeout);
        using var deadline = new CancellationTokenSource();

        await writer.AppendCommandAsync(output, "MAIL FROM:<a@example.com>", deadline);
        await writer.AppendCommandAsync(output, "RCPT TO:<b@example.net>", deadline);
        await writer.AppendCommandAsync(output, "DATA", deadline);
        await writer.FlushAsync(output, deadline);

        Assert.Equal("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nDATA\r\n", Encoding.ASCII.GetString(output.ToArray()));
        Assert.Single(output.Writes);
    }

    private sealed class RecordingStream : MemoryStream
    {
        internal List<int> Writes { get; } = new List<int>();

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            Writes.Add(count);
            return base.WriteAsync(buffer, offset, count, cancellationToken);
        }
    }
}
