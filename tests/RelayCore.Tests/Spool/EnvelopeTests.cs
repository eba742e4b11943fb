// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Linq;
using System.Text;
using RelayCore.Spool;
using Xunit;

namespace RelayCore.Tests.Spool;

public sealed class EnvelopeTests
{
    private const string Id1 = "emailrelay.32046.1795422460.1";

    public static TheoryData<string> RealEnvelopes()
    {
        var names = new TheoryData<string>();
        foreach (string path in Directory.GetFiles(TempSpool.EmailRelayDataDirectory(), "*.envelope*").OrderBy(p => p))
        {
            names.Add(Path.GetFileName(path));
        }
        return names;
    }

    [Theory]
    [MemberData(nameof(RealEnvelopes))]
    public void ReadThenWrite_RealEmailRelayEnvelope_SameBytes(string fileName)
    {
        byte[] original = File.ReadAllBytes(Path.Combine(TempSpool.EmailRelayDataDirectory(), fileName));

        Envelope envelope = Envelope.Read(new MemoryStream(original));
        var written = new MemoryStream();
        envelope.WriteTo(written);

        Assert.Equal(Encoding.UTF8.GetString(original), Encoding.UTF8.GetString(written.ToArray()));
    }

    [Fact]
    public void Read_AuthPlainMessage_EveryFieldAsWritten()
    {
        Envelope envelope = ReadReal(Id1 + ".envelope");

        Assert.Equal("#2821.8", envelope.Format);
        Assert.Equal(MessageBodyType.Unknown, envelope.BodyType);
        Assert.Equal("alice@example.com", envelope.From);
        Assert.Empty(envelope.ToLocal);
        Assert.Equal(new[] { "bob@example.net" }, envelope.ToRemote);
        Assert.Equal("alice", envelope.Authentication);
        Assert.Equal("127.0.0.1", envelope.Client);
        Assert.Equal(string.Empty, envelope.ClientCertificate);
        Assert.Equal(string.Empty, envelope.MailFromAuthIn);
        Assert.Equal(string.Empty, envelope.MailFromAuthOut);
        Assert.Equal(string.Empty, envelope.ForwardTo);
        Assert.Equal(string.Empty, envelope.ForwardToAddress);
        Assert.Equal(string.Empty, envelope.ClientAccountSelector);
        Assert.False(envelope.Utf8MailboxNames);
        Assert.Empty(envelope.Trailer);
    }

    [Fact]
    public void Read_EightBitThreeRecipients_BodyTypeAuthInAndRecipientsInOrder()
    {
        Envelope envelope = ReadReal("emailrelay.32046.1795422460.2.envelope");

        Assert.Equal(MessageBodyType.EightBitMime, envelope.BodyType);
        Assert.Equal("<alice@example.com>", envelope.MailFromAuthIn);
        Assert.Equal(new[] { "bob@example.net", "carol@example.org", "dave@example.org" }, envelope.ToRemote);
    }

    [Fact]
    public void Read_NullReversePath_EmptyFrom()
    {
        Envelope envelope = ReadReal("emailrelay.32046.1795422460.3.envelope");

        Assert.Equal(string.Empty, envelope.From);
        Assert.Equal(new[] { "postmaster@example.net" }, envelope.ToRemote);
    }

    [Fact]
    public void Read_SmtpUtf8Mailboxes_RawUtf8AndFlagSet()
    {
        Envelope envelope = ReadReal("emailrelay.32046.1795422460.4.envelope");

        Assert.Equal("jörg@example.com", envelope.From);
        Assert.Equal(new[] { "müller@example.net" }, envelope.ToRemote);
        Assert.True(envelope.Utf8MailboxNames);
    }

    [Fact]
    public void Read_TwiceFailedMessage_TwoReasonsWithCodes()
    {
        Envelope envelope = ReadReal("emailrelay.32054.1795422460.1.envelope.bad");

        Assert.Equal(2, envelope.Reasons.Count);
        Assert.All(envelope.Reasons, reason => Assert.Equal("one or more recipients rejected", reason.Text));
        Assert.All(envelope.Reasons, reason => Assert.Equal(250, reason.Code));
        Assert.Equal(string.Empty, envelope.Authentication);
    }

    [Fact]
    public void Read_SubmitToolEnvelope_TwoRecipientsAndLocalClient()
    {
        Envelope envelope = ReadReal("emailrelay.32064.1795422460.1.envelope");

        Assert.Equal("submit@example.com", envelope.From);
        Assert.Equal(new[] { "one@example.net", "two@example.net" }, envelope.ToRemote);
        Assert.Equal("127.0.0.1", envelope.Client);
    }

    [Fact]
    public void Parse_Format2821Point3_AcceptsFewerFields()
    {
        const string text =
            "X-MailRelay-Format: #2821.3\r\nX-MailRelay-Content: 8bit\r\nX-MailRelay-From: me@example.com\r\n" +
            "X-MailRelay-ToCount: 1\r\nX-MailRelay-To-Remote: you@example.net\r\nX-MailRelay-Authentication: \r\n" +
            "X-MailRelay-Client: 192.0.2.1\r\nX-MailRelay-End: 1\r\n";

        Envelope envelope = Envelope.Parse(text);

        Assert.Equal("#2821.3", envelope.Format);
        Assert.Equal("me@example.com", envelope.From);
        Assert.Equal(new[] { "you@example.net" }, envelope.ToRemote);
        Assert.Equal(string.Empty, envelope.ForwardToAddress);
    }

    [Fact]
    public void Parse_Format2821Point4_IgnoresClientSocketNameAndWritesCurrentFormat()
    {
        const string text =
            "X-MailRelay-Format: #2821.4\nX-MailRelay-Content: 7bit\nX-MailRelay-From: me@example.com\n" +
            "X-MailRelay-ToCount: 1\nX-MailRelay-To-Remote: you@example.net\nX-MailRelay-Authentication: bob\n" +
            "X-MailRelay-Client: 192.0.2.1\nX-MailRelay-ClientSocketName: host.example\nX-MailRelay-ClientCertificate: \nX-MailRelay-End: 1\n";

        string rewritten = Envelope.Parse(text).ToText();

        Assert.StartsWith("X-MailRelay-Format: #2821.8\r\nX-MailRelay-Content: 7bit\r\n", rewritten);
        Assert.DoesNotContain("ClientSocketName", rewritten);
        Assert.EndsWith("X-MailRelay-Utf8MailboxNames: 0\r\nX-MailRelay-End: 1\r\n", rewritten);
    }

    [Fact]
    public void Parse_FilterEditedFieldsReorderedLfAndPadded_ReadsEveryField()
    {
        const string text =
            "X-MailRelay-Format: #2821.8\n  X-MailRelay-ForwardToAddress:   smtp.example.net:587  \n" +
            "X-MailRelay-To-Remote: b@example.net\nx-mailrelay-from: a@example.com\n\n" +
            "X-MailRelay-ClientAccountSelector:\tisp2\nX-MailRelay-End: 1\n";

        Envelope envelope = Envelope.Parse(text);

        Assert.Equal("smtp.example.net:587", envelope.ForwardToAddress);
        Assert.Equal("a@example.com", envelope.From);
        Assert.Equal("isp2", envelope.ClientAccountSelector);
        Assert.Equal(new[] { "b@example.net" }, envelope.ToRemote);
    }

    [Fact]
    public void Parse_NoFormatLine_ThrowsInvalidData()
    {
        Assert.Throws<InvalidDataException>(() => Envelope.Parse("Subject: not an envelope\r\n"));
    }

    [Fact]
    public void AddReason_ThreeFailures_RetryCountThreeAndLastCodeKept()
    {
        Envelope envelope = ReadReal(Id1 + ".envelope");

        envelope.AddReason("first", 451);
        envelope.AddReason("second\r\nline", null);
        envelope.AddReason("third", 550);

        Assert.Equal(3, envelope.Reasons.Count);
        Assert.Equal("second  line", envelope.Reasons[1].Text);
        Assert.Null(envelope.Reasons[1].Code);
        Assert.Equal(550, envelope.Reasons[2].Code);
    }

    [Fact]
    public void WriteTo_ClientCertificate_FoldedWithCrLfSpaceAndReadBack()
    {
        var envelope = new Envelope { ClientCertificate = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" };

        string text = envelope.ToText();
        Envelope read = Envelope.Parse(text);

        Assert.Contains("X-MailRelay-ClientCertificate: -----BEGIN CERTIFICATE-----\r\n MIIB\r\n -----END CERTIFICATE-----\r\n", text);
        Assert.Equal("-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----", read.ClientCertificate);
    }

    private static Envelope ReadReal(string fileName)
    {
        using FileStream stream = File.OpenRead(Path.Combine(TempSpool.EmailRelayDataDirectory(), fileName));
        return Envelope.Read(stream);
    }
}
