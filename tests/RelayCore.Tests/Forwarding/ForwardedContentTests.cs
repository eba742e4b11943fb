// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Spool;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

/// <summary>What reaches the next hop: the spooled bytes exactly, and the envelope parameters they need.</summary>
public sealed class ForwardedContentTests
{
    private readonly ITestOutputHelper _output;

    public ForwardedContentTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData("--pipelining")]
    [InlineData("--chunking")]
    public async Task DkimSignedOddMessage_Forwarded_ArrivesByteIdenticalAndSignatureVerifies(string transfer)
    {
        if (!await SmtpNextHop.HasPythonModuleAsync("dkim", "python3-dkim", _output))
        {
            return;
        }
        using var keys = new DkimKeys();
        byte[] signed = await keys.SignAsync(SpooledContentTests.OddMessage());
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, transfer, "--dkim-txt", keys.RecordPath);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(signed, edit: envelope => envelope.BodyType = MessageBodyType.EightBitMime);

        (ForwardingSummary summary, List<ForwardResult> _) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(1, summary.Sent);
        SmtpNextHop.ReceivedMessage received = Assert.Single(hop.Messages());
        Assert.Equal(signed, received.Data);
        Assert.Equal("pass", received.Dkim);
        Assert.Equal(transfer == "--chunking", received.Chunked);
    }

    [Theory]
    [InlineData("--pipelining")]
    [InlineData("--chunking")]
    public async Task LargeMessage_ManyDotLines_ArrivesByteIdentical(string transfer)
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, transfer);
        if (hop == null)
        {
            return;
        }
        var text = new StringBuilder("Subject: large\r\n\r\n");
        for (int line = 0; text.Length < 400 * 1024; line++)
        {
            text.Append(line % 3 == 0 ? "." : line % 3 == 1 ? ".." : "x").Append(line).Append(' ', 60).Append("\r\n");
        }
        byte[] content = Encoding.ASCII.GetBytes(text.ToString());
        using var spool = new ForwardingSpool();
        await spool.AddAsync(content);

        (ForwardingSummary summary, List<ForwardResult> _) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(1, summary.Sent);
        Assert.Equal(content, Assert.Single(hop.Messages()).Data);
    }

    [Fact]
    public async Task DkimSignedMessage_OneByteChanged_NextHopReportsFail()
    {
        if (!await SmtpNextHop.HasPythonModuleAsync("dkim", "python3-dkim", _output))
        {
            return;
        }
        using var keys = new DkimKeys();
        byte[] signed = await keys.SignAsync(SpooledContentTests.OddMessage());
        int space = Array.LastIndexOf(signed, (byte)' ');
        signed[space] = (byte)'\t';
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--dkim-txt", keys.RecordPath);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(signed);

        await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal("fail", Assert.Single(hop.Messages()).Dkim);
    }

    [Theory]
    [InlineData(MessageBodyType.EightBitMime, new string[0], "BODY=8BITMIME")]
    [InlineData(MessageBodyType.SevenBit, new string[0], null)]
    [InlineData(MessageBodyType.EightBitMime, new[] { "--no-8bitmime" }, null)]
    public async Task BodyType_FromEnvelope_DeclaredWhenTheNextHopOffersIt(MessageBodyType bodyType, string[] hopOptions, string expected)
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, hopOptions);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        byte[] content = Encoding.UTF8.GetBytes("Subject: 8 bit\r\n\r\nGrüße\r\n");
        await spool.AddAsync(content, edit: envelope => envelope.BodyType = bodyType);

        await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        SmtpNextHop.ReceivedMessage received = Assert.Single(hop.Messages());
        Assert.Equal(content, received.Data);
        Assert.Equal(expected, received.MailOptions.SingleOrDefault(option => option.StartsWith("BODY=", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Utf8Mailboxes_NextHopOffersSmtpUtf8_SentWithSmtpUtf8()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("utf8"), new[] { "jörg@example.net" }, envelope => envelope.Utf8MailboxNames = true);

        (ForwardingSummary summary, List<ForwardResult> _) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(1, summary.Sent);
        SmtpNextHop.ReceivedMessage received = Assert.Single(hop.Messages());
        Assert.Equal(new[] { "jörg@example.net" }, received.RcptTos);
        Assert.Contains("SMTPUTF8", received.MailOptions);
    }

    [Fact]
    public async Task Utf8Mailboxes_NextHopLacksSmtpUtf8_MessageFailsWithAClearReason()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--no-smtputf8");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("utf8"), new[] { "jörg@example.net" }, envelope => envelope.Utf8MailboxNames = true);

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(1, summary.Failed);
        Assert.Contains("SMTPUTF8", Assert.Single(results).ReplyText, StringComparison.Ordinal);
        Assert.Contains("SMTPUTF8", Assert.Single(spool.InState(RelayMessageState.Bad)).Reason, StringComparison.Ordinal);
        Assert.Empty(hop.Messages());
    }

    [Fact]
    public async Task EnvelopeFrom_Set_RewritesMailFromAndLeavesContentAlone()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        byte[] content = ForwardingSpool.SimpleContent("one account");
        await spool.AddAsync(content);

        await spool.ForwardAsync(ForwardingSpool.Options(hop.Address, options => options.EnvelopeFrom = "isp-user@isp.example"));

        SmtpNextHop.ReceivedMessage received = Assert.Single(hop.Messages());
        Assert.Equal("isp-user@isp.example", received.MailFrom);
        Assert.Equal(content, received.Data);
    }

    [Fact]
    public async Task NullReversePath_Forwarded_MailFromIsEmpty()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("bounce"), edit: envelope => envelope.From = string.Empty);

        (ForwardingSummary summary, List<ForwardResult> _) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(1, summary.Sent);
        Assert.Equal("<>", Assert.Single(hop.Messages()).MailFrom);
    }

    /// <summary>An RSA key pair: the private key for dkim_sign.py, the public one as the DNS TXT record the next hop checks against.</summary>
    private sealed class DkimKeys : IDisposable
    {
        private readonly string _directory = Path.Combine(Path.GetTempPath(), "relay-dkim-" + Guid.NewGuid().ToString("N"));

        internal DkimKeys()
        {
            Directory.CreateDirectory(_directory);
            using var rsa = RSA.Create(2048);
            File.WriteAllText(KeyPath, rsa.ExportRSAPrivateKeyPem());
            File.WriteAllText(RecordPath, "v=DKIM1; k=rsa; p=" + Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo()));
        }

        internal string KeyPath => Path.Combine(_directory, "key.pem");

        internal string RecordPath => Path.Combine(_directory, "record.txt");

        internal async Task<byte[]> SignAsync(byte[] message)
        {
            string input = Path.Combine(_directory, "in.eml");
            string signed = Path.Combine(_directory, "signed.eml");
            File.WriteAllBytes(input, message);
            (int exitCode, string output) = await SmtpNextHop.RunScriptAsync("dkim_sign.py", KeyPath, "relay", "example.com", input, signed);
            Assert.True(exitCode == 0, "dkim_sign.py failed: " + output);
            return File.ReadAllBytes(signed);
        }

        public void Dispose() => Directory.Delete(_directory, recursive: true);
    }
}
