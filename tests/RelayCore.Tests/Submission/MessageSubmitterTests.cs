// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using RelayCore.Spool;
using RelayCore.Submission;
using RelayCore.Tests.Spool;
using Xunit;

namespace RelayCore.Tests.Submission;

public sealed class MessageSubmitterTests
{
    private static readonly CancellationToken s_deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token;

    [Fact]
    public async Task Stream_WithBareLf_IsSpooledWithCrlfAndTheEnvelopeOfEmailRelaySubmit()
    {
        using var spool = new TempSpool();

        RelayMessage message = await SubmitTextAsync(spool, "From: a@example.com\nTo: b@example.net\n\nbody\n");

        Assert.Equal("From: a@example.com\r\nTo: b@example.net\r\n\r\nbody\r\n", File.ReadAllText(message.ContentPath));
        Envelope envelope = Envelope.Parse(File.ReadAllText(message.EnvelopePath));
        Assert.Equal(MessageBodyType.Unknown, envelope.BodyType);
        Assert.Equal("127.0.0.1", envelope.Client);
        Assert.Equal("a@example.com", envelope.From);
        Assert.Equal(new[] { "b@example.net" }, envelope.ToRemote);
    }

    [Fact]
    public async Task Stream_WithFoldedBccHeader_DropsTheWholeFieldAndKeepsItsRecipients()
    {
        using var spool = new TempSpool();

        RelayMessage message = await SubmitTextAsync(spool, "To: b@example.net\r\nBcc: c@example.org,\r\n\td@example.org\r\nFrom: a@example.com\r\n\r\nBcc: in the body stays\r\n");

        Assert.Equal("To: b@example.net\r\nFrom: a@example.com\r\n\r\nBcc: in the body stays\r\n", File.ReadAllText(message.ContentPath));
        Assert.Equal(new[] { "b@example.net", "c@example.org", "d@example.org" }, message.To);
    }

    [Fact]
    public async Task Stream_HeaderEndSplitAcrossReads_IsFound()
    {
        using var spool = new TempSpool();
        string header = "From: a@example.com\r\nTo: b@example.net\r\nX-Pad: " + new string('x', 16 * 1024 - 44) + "\r\n";
        string text = header + "Bcc: c@example.org\r\n\r\nbody\r\n";

        RelayMessage message = await SubmitTextAsync(spool, text);

        Assert.Equal(header + "\r\nbody\r\n", File.ReadAllText(message.ContentPath));
        Assert.Contains("c@example.org", message.To);
    }

    [Fact]
    public async Task Stream_CrlfSplitAcrossReads_StaysOneLineEnd()
    {
        using var spool = new TempSpool();
        byte[] bytes = Encoding.ASCII.GetBytes("From: a@example.com\r\nTo: b@example.net\r\n\r\n" + new string('y', 16 * 1024) + "\r\nend\n");
        using var content = new OneByteAtATimeStream(bytes);

        RelayMessage message = await MessageSubmitter.SubmitAsync(spool.Spool, content, null, null, s_deadline);

        Assert.EndsWith(new string('y', 10) + "\r\nend\r\n", File.ReadAllText(message.ContentPath), StringComparison.Ordinal);
        Assert.Equal(bytes.Length + 1, message.Size);
    }

    [Fact]
    public async Task Stream_SenderHeader_IsTheEnvelopeSenderBeforeFrom()
    {
        using var spool = new TempSpool();

        RelayMessage message = await SubmitTextAsync(spool, "From: Team <team@example.com>\r\nSender: bot@example.com\r\nTo: b@example.net\r\n\r\nx\r\n");

        Assert.Equal("bot@example.com", message.From);
    }

    [Fact]
    public async Task Stream_GivenEnvelope_OverridesTheHeaders()
    {
        using var spool = new TempSpool();
        using var content = new MemoryStream(Encoding.ASCII.GetBytes("From: a@example.com\r\nTo: b@example.net\r\n\r\nx\r\n"));

        RelayMessage message = await MessageSubmitter.SubmitAsync(spool.Spool, content, "<bounce@example.com>", new[] { "x@example.org" }, s_deadline);

        Assert.Equal("bounce@example.com", message.From);
        Assert.Equal(new[] { "x@example.org" }, message.To);
    }

    [Theory]
    [InlineData("From: a@example.com\r\n\r\nno recipients\r\n")]
    [InlineData("To: b@example.net\r\n\r\nno sender\r\n")]
    [InlineData("From: a@example.com\r\nTo: <<<\r\n\r\nbad address\r\n")]
    public async Task Stream_WithoutUsableEnvelope_ThrowsInvalidSubmissionAndLeavesNoFiles(string text)
    {
        using var spool = new TempSpool();

        await Assert.ThrowsAsync<InvalidSubmissionException>(() => SubmitTextAsync(spool, text));

        Assert.Empty(Directory.GetFiles(spool.Path));
    }

    [Fact]
    public async Task MimeMessage_WithBcc_IsWrittenWithoutItAndLeftUnchanged()
    {
        using var spool = new TempSpool();
        var mime = new MimeMessage();
        mime.From.Add(MailboxAddress.Parse("a@example.com"));
        mime.To.Add(MailboxAddress.Parse("b@example.net"));
        mime.Bcc.Add(MailboxAddress.Parse("c@example.org"));
        mime.Subject = "s";
        mime.Body = new TextPart("plain") { Text = "line one\nline two\n" };

        RelayMessage message = await MessageSubmitter.SubmitAsync(spool.Spool, mime, null, null, s_deadline);

        string content = File.ReadAllText(message.ContentPath);
        Assert.DoesNotContain("Bcc", content, StringComparison.Ordinal);
        Assert.Contains("line one\r\nline two\r\n", content, StringComparison.Ordinal);
        Assert.DoesNotMatch("[^\r]\n", content);
        Assert.Equal(new[] { "b@example.net", "c@example.org" }, message.To);
        Assert.Single(mime.Bcc);
    }

    [Fact]
    public async Task Draft_WithUtf8SubjectAndBody_IsEncodedForSevenBitTransport()
    {
        using var spool = new TempSpool();
        var draft = new MessageDraft { From = "a@example.com", Subject = "Grüße", Body = "Hällo" };
        draft.To.Add("b@example.net");

        RelayMessage message = await MessageSubmitter.SubmitAsync(spool.Spool, draft.ToMimeMessage(), null, null, s_deadline);

        byte[] content = File.ReadAllBytes(message.ContentPath);
        Assert.All(content, b => Assert.True(b < 0x80));
        Assert.Equal("Grüße", message.GetMimeMessage().Subject);
        Assert.Equal("Hällo", message.GetMimeMessage().TextBody);
    }

    private static Task<RelayMessage> SubmitTextAsync(TempSpool spool, string text) =>
        MessageSubmitter.SubmitAsync(spool.Spool, new MemoryStream(Encoding.UTF8.GetBytes(text)), null, null, s_deadline);

    /// <summary>Returns one byte per read, so every boundary case of the chunked normaliser is met.</summary>
    private sealed class OneByteAtATimeStream : MemoryStream
    {
        public OneByteAtATimeStream(byte[] bytes)
            : base(bytes)
        {
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, 1), cancellationToken);
    }
}
