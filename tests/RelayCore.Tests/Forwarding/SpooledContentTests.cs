// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using MimeKit;
using RelayCore.Forwarding;
using RelayCore.Spool;
using Xunit;

namespace RelayCore.Tests.Forwarding;

public sealed class SpooledContentTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "relay-spooled-" + Guid.NewGuid().ToString("N") + ".content");

    [Theory]
    [InlineData(MessageBodyType.Unknown)]
    [InlineData(MessageBodyType.EightBitMime)]
    [InlineData(MessageBodyType.BinaryMime)]
    public async Task WriteToAsync_OddMessage_WritesTheFileBytesExactly(MessageBodyType bodyType)
    {
        byte[] content = OddMessage();
        File.WriteAllBytes(_path, content);
        using MimeMessage message = SpooledContent.CreateMessage(_path, bodyType);
        using var written = new MemoryStream();

        await message.WriteToAsync(SpooledContent.FormatOptionsFor(international: false), written);

        Assert.Equal(content, written.ToArray());
    }

    [Theory]
    [InlineData(64 * 1024 - 10)]
    [InlineData(64 * 1024 + 10)]
    [InlineData(300 * 1024)]
    public async Task WriteToAsync_AroundTheInMemoryLimit_WritesTheFileBytesExactly(int size)
    {
        byte[] content = Sized(OddMessage(), size);
        File.WriteAllBytes(_path, content);
        using MimeMessage message = SpooledContent.CreateMessage(_path, MessageBodyType.EightBitMime);
        using var written = new MemoryStream();

        await message.WriteToAsync(SpooledContent.FormatOptionsFor(international: false), written);

        Assert.Equal(content, written.ToArray());
        Assert.Equal(content.Length, ((SpooledContent)message.Body).Length);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\r\n")]
    [InlineData("\r\nbody only\r\n")]
    [InlineData("Subject: headers only\r\n")]
    [InlineData("Subject: x\r\n\r\n")]
    public async Task WriteToAsync_EdgeShapes_WritesTheFileBytesWithAFinalLineEnd(string text)
    {
        File.WriteAllBytes(_path, Encoding.ASCII.GetBytes(text));
        using MimeMessage message = SpooledContent.CreateMessage(_path, MessageBodyType.SevenBit);
        using var written = new MemoryStream();

        await message.WriteToAsync(SpooledContent.FormatOptionsFor(international: false), written);

        string expected = text.EndsWith("\r\n", StringComparison.Ordinal) ? text : text + "\r\n";
        Assert.Equal(expected, Encoding.ASCII.GetString(written.ToArray()));
        Assert.Equal(written.Length, ((SpooledContent)message.Body).Length);
    }

    [Fact]
    public void WriteTo_Synchronous_WritesTheFileBytesExactly()
    {
        byte[] content = OddMessage();
        File.WriteAllBytes(_path, content);
        using MimeMessage message = SpooledContent.CreateMessage(_path, MessageBodyType.SevenBit);
        using var written = new MemoryStream();

        message.WriteTo(SpooledContent.FormatOptionsFor(international: true), written);

        Assert.Equal(content, written.ToArray());
    }

    [Fact]
    public async Task WriteToAsync_NoFinalLineEnd_AppendsCrLfAndCountsIt()
    {
        File.WriteAllBytes(_path, Encoding.ASCII.GetBytes("Subject: x\r\n\r\nno end"));
        using MimeMessage message = SpooledContent.CreateMessage(_path, MessageBodyType.SevenBit);
        using var written = new MemoryStream();

        await message.WriteToAsync(SpooledContent.FormatOptionsFor(international: false), written);

        Assert.Equal("Subject: x\r\n\r\nno end\r\n", Encoding.ASCII.GetString(written.ToArray()));
        Assert.Equal(written.Length, ((SpooledContent)message.Body).Length);
    }

    [Theory]
    [InlineData(MessageBodyType.SevenBit, ContentEncoding.SevenBit)]
    [InlineData(MessageBodyType.EightBitMime, ContentEncoding.EightBit)]
    [InlineData(MessageBodyType.BinaryMime, ContentEncoding.Binary)]
    public void CreateMessage_BodyType_MarksThePartForMailKitsBodyParameter(MessageBodyType bodyType, ContentEncoding expected)
    {
        File.WriteAllBytes(_path, OddMessage());

        using MimeMessage message = SpooledContent.CreateMessage(_path, bodyType);

        Assert.Equal(expected, ((MimePart)message.Body).ContentTransferEncoding);
    }

    public void Dispose() => File.Delete(_path);

    /// <summary>The message with its body padded by 78-byte lines (and a short last one) to exactly <paramref name="size"/> bytes.</summary>
    private static byte[] Sized(byte[] message, int size)
    {
        var text = new StringBuilder(Encoding.UTF8.GetString(message));
        int left = size - message.Length;
        while (left > 80)
        {
            text.Append(new string('y', 78)).Append("\r\n");
            left -= 80;
        }
        text.Append(new string('z', left - 2)).Append("\r\n");
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>What a re-encoding writer would change: odd header spacing, folding, 8-bit text, dots, a long line, bare LF.</summary>
    internal static byte[] OddMessage()
    {
        var text = new StringBuilder();
        text.Append("Received: from x\r\n\tby y ;  Mon, 23 Nov 2026 10:00:00 +0000\r\n");
        text.Append("From:alice@example.com\r\n");
        text.Append("Subject:    spaced   out\t\r\n");
        text.Append("X-Folded: a\r\n  b\r\n\tc\r\n");
        text.Append("Content-Type: text/plain; charset=utf-8\r\n");
        text.Append("Content-Transfer-Encoding: 8bit\r\n\r\n");
        text.Append("Grüße aus Köln — ✓\r\n");
        text.Append(".leading dot\r\n..two dots\r\n.\r\n");
        text.Append(new string('x', 990)).Append("\r\n");
        text.Append("trailing spaces   \r\n\r\n");
        return Encoding.UTF8.GetBytes(text.ToString()).Concat(Encoding.ASCII.GetBytes("end\r\n")).ToArray();
    }
}
