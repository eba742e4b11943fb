// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
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
        string id = reply.Substring("250 2.0.0 OK id=".Length);
        string content = File.ReadAllText(Path.Combine(server.SpoolPath, id + ".content"));
        Assert.Matches(@"^Received: from client\.example \(\[127\.0\.0\.1\]\) by relay\.test with ESMTP ; \w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}\r\nSubject: hi\r\n\r\nHello\.\r\n\.dot\r\n$", content);
        Envelope envelope = Envelope.Parse(File.ReadAllText(Path.Combine(server.SpoolPath, id + ".envelope")));
        Assert.Equal("alice@example.com", envelope.From);
        Assert.Equal(new[] { "bob@example.net" }, envelope.ToRemote);
        Assert.Equal("127.0.0.1", envelope.Client);
        Assert.Equal(MessageBodyType.Unknown, envelope.BodyType);
        Assert.Equal(1, server.Server.GetStatistics().MessagesAccepted);
        Assert.Equal("221 2.0.0 relay.test closing connection", await client.CommandAsync("QUIT"));
    }
}
