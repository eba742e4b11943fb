// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Threading.Tasks;
using RelayCore.Spool;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Smtp;

public class SmtpChunkingTests
{
    private static async Task<SmtpTestClient> OpenTransactionAsync(TestServer server, string mailParameters = "")
    {
        SmtpTestClient client = await server.ConnectAsync();
        await client.GreetAsync("EHLO client.example");
        await client.CommandAsync("MAIL FROM:<a@b>" + mailParameters);
        await client.CommandAsync("RCPT TO:<c@d>");
        return client;
    }

    [Fact]
    public async Task Bdat_TwoChunks_StoresBytesExactlyWithoutUnstuffing()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.Anonymous = true);
        using SmtpTestClient client = await OpenTransactionAsync(server, " BODY=BINARYMIME");

        await client.SendAsync("BDAT 14\r\nSubject: b\r\n\r\n");
        Assert.Equal("250 2.0.0 14 octets received", await client.ReadReplyAsync());
        await client.SendAsync("BDAT 8 LAST\r\n.x\r\n.\r\nz");
        string reply = await client.ReadReplyAsync();

        Assert.StartsWith("250 2.0.0 OK id=", reply);
        string id = TestServer.IdOf(reply);
        Assert.Equal("Subject: b\r\n\r\n.x\r\n.\r\nz", server.ReadContent(id));
        Assert.Equal(MessageBodyType.BinaryMime, server.ReadEnvelope(id).BodyType);
    }

    [Fact]
    public async Task Bdat_WithoutTransaction_Gets503AndSkipsTheChunk()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");

        await client.SendAsync("BDAT 6 LAST\r\nNOOP\r\n");

        Assert.StartsWith("503 5.5.1", await client.ReadReplyAsync());
        Assert.Equal("250 2.0.0 OK", await client.CommandAsync("NOOP"));
        Assert.Empty(server.AllSpoolFiles());
    }

    [Fact]
    public async Task Bdat_OverSizeLimit_Gets552AndNoFile()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxMessageSize = 10);
        using SmtpTestClient client = await OpenTransactionAsync(server);

        await client.SendAsync("BDAT 8\r\n12345678BDAT 3 LAST\r\n9ab");

        Assert.StartsWith("250 2.0.0 8 octets", await client.ReadReplyAsync());
        Assert.StartsWith("552 5.3.4", await client.ReadReplyAsync());
        Assert.Empty(server.AllSpoolFiles());
    }

    [Fact]
    public async Task Data_AfterBinaryMime_IsRefused()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await OpenTransactionAsync(server, " BODY=BINARYMIME");

        Assert.StartsWith("503 5.5.1", await client.CommandAsync("DATA"));
    }

    [Fact]
    public async Task Bdat_BadSize_Gets501AndCloses()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await OpenTransactionAsync(server);

        Assert.StartsWith("501 5.5.4", await client.CommandAsync("BDAT lots"));
        Assert.True(await client.WaitForCloseAsync());
    }
}
