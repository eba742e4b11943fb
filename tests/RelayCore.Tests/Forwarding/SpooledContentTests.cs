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

        await message.WriteToAsync(SpooledContent.CreateFormatOptions(international: false), written);

        Assert.Equal(content, written.ToArray());
    }

    [Fact]
    public void WriteTo_Synchronous_WritesTheFileBytesExactly()
    {
        byte[] content = OddMessage();
        File.WriteAllBytes(_path, content);
        using MimeMessage message = SpooledContent.CreateMessage(_path, MessageBodyType.SevenBit);
        using var written = new MemoryStream();

        message.WriteTo(SpooledContent.CreateFormatOptions(international: true), written);

        Assert.Equal(content, written.ToArray());
    }

    [Fact]
    public async Task WriteToAsync_NoFinalLineEnd_AppendsCrLfAndCountsIt()
    {
        File.WriteAllBytes(_path, Encoding.ASCII.GetBytes("Subject: x\r\n\r\nno end"));
        using MimeMessage message = SpooledContent.CreateMessage(_path, MessageBodyType.SevenBit);
        using var written = new MemoryStream();

        await message.WriteToAsync(SpooledContent.CreateFormatOptions(international: false), written);

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
