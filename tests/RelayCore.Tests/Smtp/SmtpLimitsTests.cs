// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Text;
using System.Threading.Tasks;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Smtp;

public class SmtpLimitsTests
{
    private const int SizeLimit = 1000;

    [Theory]
    [InlineData(SizeLimit, "250 2.0.0 OK id=")]
    [InlineData(SizeLimit + 1, "552 5.3.4")]
    public async Task Data_SizeAtAndOverLimit_AcceptsOnlyUpToLimit(int size, string expected)
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxMessageSize = SizeLimit);
        using SmtpTestClient client = await server.ConnectAsync();
        // The stored text is the lines with their CRLFs; the end marker does not count.
        string text = new string('x', size - 2);

        string reply = await client.SubmitAsync("a@b", "c@d", text);

        Assert.StartsWith(expected, reply);
        Assert.Equal(expected.StartsWith("250") ? 2 : 0, server.AllSpoolFiles().Length);
    }

    [Fact]
    public async Task Data_OverSizeLimit_ConnectionStaysUsable()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxMessageSize = SizeLimit);
        using SmtpTestClient client = await server.ConnectAsync();
        Assert.StartsWith("552", await client.SubmitAsync("a@b", "c@d", new string('y', 5 * SizeLimit)));

        await client.OpenTransactionAsync();
        string reply = await client.DataAsync("small");

        Assert.StartsWith("250 2.0.0 OK id=", reply);
        Assert.Equal(1, server.Server.GetStatistics().MessagesRejected);
    }

    [Theory]
    [InlineData(SizeLimit, "250 2.1.0")]
    [InlineData(SizeLimit + 1, "552 5.3.4")]
    public async Task Mail_SizeParameter_IsCheckedAgainstLimit(int size, string expected)
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxMessageSize = SizeLimit);
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");

        Assert.StartsWith(expected, await client.CommandAsync("MAIL FROM:<a@b> SIZE=" + size));
    }

    [Fact]
    public async Task Rcpt_PastMaxRecipients_Gets452()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxRecipients = 2);
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");
        await client.CommandAsync("MAIL FROM:<a@b>");
        await client.CommandAsync("RCPT TO:<one@x>");
        await client.CommandAsync("RCPT TO:<two@x>");

        string reply = await client.CommandAsync("RCPT TO:<three@x>");

        Assert.Equal("452 4.5.3 Too many recipients", reply);
    }

    [Fact]
    public async Task BadCommands_PastLimit_Get421AndClose()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxBadCommands = 2);
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();
        Assert.StartsWith("500", await client.CommandAsync("BAD1"));
        Assert.StartsWith("500", await client.CommandAsync("BAD2"));

        string reply = await client.CommandAsync("BAD3");

        Assert.StartsWith("421 4.7.0", reply);
        Assert.True(await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task IdleClient_PastTimeout_Gets421AndClose()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.IdleTimeout = TimeSpan.FromMilliseconds(300));
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();

        string reply = await client.ReadReplyAsync();

        Assert.StartsWith("421 4.4.2", reply);
        Assert.True(await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task IdleClient_MidData_IsDroppedAndNothingStored()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.IdleTimeout = TimeSpan.FromMilliseconds(300));
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");
        await client.OpenTransactionAsync();
        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: partial\r\n");

        Assert.StartsWith("421 4.4.2", await client.ReadReplyAsync());
        await TestServer.WaitUntilAsync(() => server.AllSpoolFiles().Length == 0, "the partial receipt's files are deleted");
    }

    [Theory]
    [InlineData(598, "250")]
    [InlineData(599, "500 5.5.2")]
    public async Task CommandLine_AtAndOverLimit_OnlyOverIsRefused(int length, string expected)
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxLineLength = 600);
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();

        string reply = await client.CommandAsync("NOOP " + new string('x', length - 5));

        Assert.StartsWith(expected, reply);
    }

    [Fact]
    public async Task CommandLine_OverLimit_ClosesConnection()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxLineLength = 600);
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();
        await client.CommandAsync("NOOP " + new string('x', 2000));

        Assert.True(await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task DataLine_OverLimit_Gets500AndNothingStored()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxLineLength = 600);
        using SmtpTestClient client = await server.ConnectAsync();

        string reply = await client.SubmitAsync("a@b", "c@d", new string('z', 700));

        Assert.StartsWith("500 5.5.2", reply);
        await TestServer.WaitUntilAsync(() => server.AllSpoolFiles().Length == 0, "the receipt's files are deleted");
    }

    [Fact]
    public async Task Connections_PastMaximum_Get421()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxConnections = 1);
        using SmtpTestClient first = await server.ConnectAsync();
        Assert.StartsWith("220", await first.ReadReplyAsync());

        using SmtpTestClient second = await server.ConnectAsync();

        Assert.StartsWith("421 4.7.0", await second.ReadReplyAsync());
        Assert.True(await second.WaitForCloseAsync());
        Assert.Equal("250 2.0.0 OK", await first.CommandAsync("NOOP"));
    }

    [Fact]
    public async Task Connections_AfterOneCloses_AreAcceptedAgain()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxConnections = 1);
        using (SmtpTestClient first = await server.ConnectAsync())
        {
            await first.ReadReplyAsync();
            await first.CommandAsync("QUIT");
        }
        await TestServer.WaitUntilAsync(() => server.Server.GetStatistics().ConnectionsActive == 0, "the first connection is closed");

        using SmtpTestClient second = await server.ConnectAsync();

        Assert.StartsWith("220", await second.ReadReplyAsync());
    }

    [Fact]
    public async Task Client_DisconnectsMidData_NothingCommitted()
    {
        await using TestServer server = await TestServer.StartAsync();
        using (SmtpTestClient client = await server.ConnectAsync())
        {
            await client.GreetAsync("EHLO x");
            await client.OpenTransactionAsync();
            await client.CommandAsync("DATA");
            await client.SendAsync(Encoding.ASCII.GetBytes("Subject: cut\r\n\r\n" + new string('q', 50000) + "\r\n"));
        }

        await TestServer.WaitUntilAsync(() => server.Server.GetStatistics().MessagesRejected == 1, "the cut message is counted as rejected");
        Assert.Empty(server.AllSpoolFiles());
        Assert.Equal(0, server.Server.GetStatistics().MessagesAccepted);
    }
}
