// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Threading.Tasks;
using RelayCore.Spool;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Smtp;

public class SmtpConversationTests
{
    [Fact]
    public async Task Data_SimpleMessage_IsStoredWithEnvelopeAndReceivedHeader()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectAsync();
        Assert.StartsWith("220 relay.test", await client.ReadReplyAsync());

        Assert.StartsWith("250-relay.test", await client.CommandAsync("EHLO client.example"));
        Assert.Equal("250 2.1.0 OK", await client.CommandAsync("MAIL FROM:<alice@example.com>"));
        Assert.Equal("250 2.1.5 OK", await client.CommandAsync("RCPT TO:<bob@example.net>"));
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        string reply = await client.CommandAsync("Subject: hi\r\n\r\nHello.\r\n..dot\r\n.");

        Assert.StartsWith("250 2.0.0 OK id=emailrelay.", reply);
        string id = TestServer.IdOf(reply);
        Assert.Matches(@"^Received: from client\.example \(\[127\.0\.0\.1\]\) by relay\.test with ESMTP ; \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}\r\nSubject: hi\r\n\r\nHello\.\r\n\.dot\r\n$", server.ReadContent(id));
        Envelope envelope = server.ReadEnvelope(id);
        Assert.Equal("alice@example.com", envelope.From);
        Assert.Equal(new[] { "bob@example.net" }, envelope.ToRemote);
        Assert.Equal("127.0.0.1", envelope.Client);
        Assert.Equal(MessageBodyType.Unknown, envelope.BodyType);
        Assert.Equal(1, server.Server.GetStatistics().MessagesAccepted);
        Assert.Equal("221 2.0.0 relay.test closing connection", await client.CommandAsync("QUIT"));
    }

    [Fact]
    public async Task Mail_WithParameterAfterHelo_Replies555AndAcceptsPlainMail()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();
        await client.CommandAsync("HELO client.example");

        string withParameter = await client.CommandAsync("MAIL FROM:<alice@example.com> BODY=8BITMIME");
        string plain = await client.CommandAsync("MAIL FROM:<alice@example.com>");

        Assert.StartsWith("555 5.5.4", withParameter);
        Assert.Equal("250 2.1.0 OK", plain);
    }

    [Fact]
    public async Task Ehlo_Default_AdvertisesExtensionsFromCapabilities()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxMessageSize = 12345);
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();

        string reply = await client.CommandAsync("EHLO client.example");

        foreach (string keyword in new[] { "PIPELINING", "8BITMIME", "SIZE 12345", "SMTPUTF8", "ENHANCEDSTATUSCODES", "CHUNKING", "BINARYMIME" })
        {
            Assert.Contains("250-" + keyword + "\n", reply + "\n");
        }
        Assert.DoesNotContain("STARTTLS", reply);
        Assert.DoesNotContain("AUTH", reply);
    }

    [Theory]
    [InlineData("MAIL FROM:<a@b>", "503 5.5.1")]
    [InlineData("RCPT TO:<a@b>", "503 5.5.1")]
    [InlineData("DATA", "503 5.5.1")]
    [InlineData("BDAT 0 LAST", "503 5.5.1")]
    public async Task Command_BeforeEhlo_Gets503AndSpoolStaysEmpty(string command, string expected)
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();

        string reply = await client.CommandAsync(command);

        Assert.StartsWith(expected, reply);
        Assert.Empty(server.AllSpoolFiles());
    }

    [Fact]
    public async Task Data_WithoutRecipients_Gets503AndSpoolStaysEmpty()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");
        await client.CommandAsync("MAIL FROM:<a@b>");

        string reply = await client.CommandAsync("DATA");

        Assert.Equal("503 5.5.1 No valid recipients", reply);
        Assert.Empty(server.AllSpoolFiles());
    }

    [Fact]
    public async Task Mail_Twice_GetsNested503()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");
        await client.CommandAsync("MAIL FROM:<a@b>");

        Assert.StartsWith("503 5.5.1", await client.CommandAsync("MAIL FROM:<a@b>"));
    }

    [Fact]
    public async Task Pipelining_WholeBatchInOnePacket_AnswersEveryCommandInOrder()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync();

        await client.SendAsync("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.net>\r\nRCPT TO:<c@example.net>\r\nDATA\r\nSubject: p\r\n\r\nbody\r\n.\r\nNOOP\r\nQUIT\r\n");

        Assert.Equal("250 2.1.0 OK", await client.ReadReplyAsync());
        Assert.Equal("250 2.1.5 OK", await client.ReadReplyAsync());
        Assert.Equal("250 2.1.5 OK", await client.ReadReplyAsync());
        Assert.StartsWith("354", await client.ReadReplyAsync());
        string stored = await client.ReadReplyAsync();
        Assert.StartsWith("250 2.0.0 OK id=", stored);
        Assert.Equal("250 2.0.0 OK", await client.ReadReplyAsync());
        Assert.StartsWith("221", await client.ReadReplyAsync());
        Assert.Equal(new[] { "b@example.net", "c@example.net" }, server.ReadEnvelope(TestServer.IdOf(stored)).ToRemote);
    }

    [Fact]
    public async Task Data_DotStuffedLines_AreUnstuffedAndEndMarkerNotStored()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.Anonymous = true);
        using SmtpTestClient client = await server.ConnectAsync();

        string reply = await client.SubmitAsync("a@b", "c@d", "..one\r\n...two\r\n.three\r\n. \r\nlast");

        Assert.Equal(".one\r\n..two\r\nthree\r\n \r\nlast\r\n", server.ReadContent(TestServer.IdOf(reply)));
    }

    [Fact]
    public async Task Helo_Message_ReceivedSaysSmtp()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectAsync();

        string reply = await client.SubmitAsync("a@b", "c@d", "x", "HELO old.client");

        Assert.StartsWith("Received: from old.client ([127.0.0.1]) by relay.test with SMTP ; ", server.ReadContent(TestServer.IdOf(reply)));
    }

    [Fact]
    public async Task Mail_NullReversePath_StoresEmptyFrom()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectAsync();

        string reply = await client.SubmitAsync(string.Empty, "postmaster@example.net", "bounce");

        Assert.Equal(string.Empty, server.ReadEnvelope(TestServer.IdOf(reply)).From);
    }

    [Fact]
    public async Task Mail_Smtputf8BodyAndAuthParameters_AreRecordedInEnvelope()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");

        Assert.Equal("250 2.1.0 OK", await client.CommandAsync("MAIL FROM:<jörg@example.com> BODY=8BITMIME SMTPUTF8 AUTH=<alice@example.com>"));
        await client.CommandAsync("RCPT TO:<müller@example.net>");
        string reply = await client.DataAsync("Subject: utf8\r\n\r\nGrüße");

        Envelope envelope = server.ReadEnvelope(TestServer.IdOf(reply));
        Assert.Equal("jörg@example.com", envelope.From);
        Assert.Equal(new[] { "müller@example.net" }, envelope.ToRemote);
        Assert.Equal(MessageBodyType.EightBitMime, envelope.BodyType);
        Assert.True(envelope.Utf8MailboxNames);
        Assert.Equal("<alice@example.com>", envelope.MailFromAuthIn);
    }

    [Theory]
    [InlineData("BODY=7BIT", MessageBodyType.SevenBit)]
    [InlineData("BODY=8bitmime", MessageBodyType.EightBitMime)]
    [InlineData("SMTPUTF8", MessageBodyType.EightBitMime)]
    [InlineData("", MessageBodyType.Unknown)]
    public async Task Mail_BodyParameter_SetsEnvelopeContent(string parameters, MessageBodyType expected)
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");
        await client.CommandAsync("MAIL FROM:<a@b> " + parameters);
        await client.CommandAsync("RCPT TO:<c@d>");
        string reply = await client.DataAsync("x");

        Assert.Equal(expected, server.ReadEnvelope(TestServer.IdOf(reply)).BodyType);
    }

    [Theory]
    [InlineData("MAIL FROM:<a@b> BODY=9BIT", "501 5.5.4")]
    [InlineData("MAIL FROM:<a@b> RET=FULL", "555 5.5.4")]
    [InlineData("MAIL FROM:<a@b> SIZE=abc", "501 5.5.4")]
    [InlineData("MAIL TO:<a@b>", "501 5.5.4")]
    public async Task Mail_BadParameters_AreRefused(string command, string expected)
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");

        Assert.StartsWith(expected, await client.CommandAsync(command));
    }

    [Fact]
    public async Task Vrfy_Normal_Gets252()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();

        Assert.StartsWith("252 2.5.0", await client.CommandAsync("VRFY bob"));
    }

    [Fact]
    public async Task Anonymous_VrfyAndReceived_AreDisabled()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.Anonymous = true);
        using SmtpTestClient client = await server.ConnectAsync();
        Assert.Equal("220 relay.test ESMTP", await client.ReadReplyAsync());
        Assert.StartsWith("502 5.5.1", await client.CommandAsync("VRFY bob"));
        await client.CommandAsync("EHLO x");
        await client.OpenTransactionAsync();
        string reply = await client.DataAsync("Subject: anon\r\n\r\nx");

        Assert.Equal("Subject: anon\r\n\r\nx\r\n", server.ReadContent(TestServer.IdOf(reply)));
    }

    [Fact]
    public async Task Rset_MidTransaction_ForgetsRecipients()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");
        await client.OpenTransactionAsync();

        Assert.Equal("250 2.0.0 OK", await client.CommandAsync("RSET"));
        Assert.StartsWith("503", await client.CommandAsync("DATA"));
    }

    [Fact]
    public async Task Help_And_Noop_AreAnswered()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();

        Assert.StartsWith("214 2.0.0", await client.CommandAsync("HELP"));
        Assert.Equal("250 2.0.0 OK", await client.CommandAsync("NOOP"));
        Assert.StartsWith("500 5.5.2", await client.CommandAsync("FOO"));
    }

    [Fact]
    public async Task Data_TwoMessagesOnOneConnection_AreBothStored()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectAsync();
        await client.SubmitAsync("a@b", "c@d", "one");

        await client.CommandAsync("MAIL FROM:<a@b>");
        await client.CommandAsync("RCPT TO:<e@f>");
        string reply = await client.DataAsync("two");

        Assert.StartsWith("250 2.0.0 OK id=", reply);
        Assert.Equal(2, server.Envelopes().Length);
    }

    [Theory]
    [InlineData("EHLO evil\rInjected: header")]
    [InlineData("MAIL FROM:<a@b\u0000>")]
    [InlineData("MAIL FROM:<a\u0085b@example.com> SMTPUTF8")]
    [InlineData("MAIL FROM:<a\u2028X-MailRelay-ForwardTo: evil@example.com> SMTPUTF8")]
    [InlineData("EHLO evil\u0085Injected: header")]
    public async Task Command_WithControlCharacters_IsRefused(string command)
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();

        string reply = await client.CommandAsync(command);

        Assert.StartsWith("500 5.5.2", reply);
    }
}
