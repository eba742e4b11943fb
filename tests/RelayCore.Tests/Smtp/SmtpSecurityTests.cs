// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Smtp;

/// <summary>Attacks over real sockets: smuggling, envelope injection, forged identities.</summary>
public class SmtpSecurityTests
{
    [Theory]
    [InlineData("\n.\n")]
    [InlineData("\n.\r\n")]
    [InlineData("\r\n.\n")]
    [InlineData("\r.\r\n")]
    public async Task Data_NonStandardEndOfData_DoesNotEndMessageSoNoSecondMessageIsSmuggled(string fakeEnd)
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync();
        await client.OpenTransactionAsync();
        await client.CommandAsync("DATA");
        string smuggled = "Subject: one\r\n\r\nfirst" + fakeEnd +
            "MAIL FROM:<ceo@victim.example>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: forged\r\n\r\nsecond\r\n.\r\n";

        await client.SendAsync(smuggled);
        string reply = await client.ReadReplyAsync();
        string next = await client.CommandAsync("NOOP");

        Assert.StartsWith("250 2.0.0 OK id=", reply);
        Assert.Equal("250 2.0.0 OK", next);
        Assert.Single(server.Envelopes());
        Assert.Contains("MAIL FROM:<ceo@victim.example>", server.ReadContent(TestServer.IdOf(reply)));
    }

    [Fact]
    public async Task Command_InvalidUtf8_IsRefused()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync();

        await client.SendAsync(Encoding.ASCII.GetBytes("MAIL FROM:<a").Concat(new byte[] { 0xFF, 0xC3 }).Concat(Encoding.ASCII.GetBytes("@b> SMTPUTF8\r\n")).ToArray());
        string reply = await client.ReadReplyAsync();

        Assert.StartsWith("500 5.5.2", reply);
    }


    [Theory]
    [InlineData("MAIL FROM:<jörg@example.com>", null)]
    [InlineData("MAIL FROM:<a@b>", "RCPT TO:<müller@example.net>")]
    public async Task Address_NonAsciiWithoutSmtpUtf8_Gets553AndNothingIsStored(string mail, string rcpt)
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync();

        string reply = await client.CommandAsync(mail);
        if (rcpt != null)
        {
            reply = await client.CommandAsync(rcpt);
        }
        string data = await client.CommandAsync("DATA");

        Assert.StartsWith("553 5.6.7", reply);
        Assert.StartsWith("503", data);
        Assert.Empty(server.AllSpoolFiles());
    }


    [Fact]
    public async Task Auth_UserNameWithLineBreak_IsLoggedOnOneLine()
    {
        string directory = TestServer.NewDirectory();
        string secrets = Path.Combine(directory, "server.auth");
        File.WriteAllText(secrets, "server plain alice s3cret\n");
        await using TestServer server = await TestServer.StartAsync(o => o.ServerSecretsPath = secrets, directory);
        using SmtpTestClient client = await server.ConnectGreetedAsync();
        string forged = Convert.ToBase64String(Encoding.UTF8.GetBytes("\0mallory\r\n127.0.0.1: authenticated as 'alice'\0x"));

        string reply = await client.CommandAsync("AUTH PLAIN " + forged);

        Assert.StartsWith("535", reply);
        string logged = Assert.Single(server.LogLines, line => line.Contains("mallory"));
        Assert.Equal(-1, logged.IndexOfAny(new[] { '\r', '\n' }));
    }


    [Fact]
    public async Task Mail_SizeBeyondLongRange_Gets552NotSyntaxError()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.MaxMessageSize = 1000);
        using SmtpTestClient client = await server.ConnectGreetedAsync();

        string reply = await client.CommandAsync("MAIL FROM:<a@b> SIZE=99999999999999999999999");

        Assert.StartsWith("552 5.3.4", reply);
    }

    [Theory]
    [InlineData("AUTH=<alice@example.com>", "<alice@example.com>")]
    [InlineData("AUTH=<>", "<>")]
    [InlineData("AUTH=a+zz", "a+2Bzz")]
    [InlineData("AUTH=x=y", "x+3Dy")]
    [InlineData("AUTH=j+C3+B6rg SMTPUTF8", "j+C3+B6rg")]
    [InlineData("AUTH=jörg SMTPUTF8", "j+C3+B6rg")]
    public async Task Mail_AuthParameter_IsStoredAsValidXtext(string parameters, string expected)
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync();

        await client.OpenTransactionAsync("MAIL FROM:<a@b> " + parameters);
        string reply = await client.DataAsync("Subject: x\r\n\r\nx");

        Assert.Equal(expected, server.ReadEnvelope(TestServer.IdOf(reply)).MailFromAuthIn);
    }


    [Fact]
    public async Task ImplicitTls_PlainTextGarbage_ClosesAndServerKeepsServing()
    {
        await using TestServer server = await SmtpTlsTests.StartWithCertificateAsync(configure: o => o.ImplicitTlsPorts.Add(0));
        using SmtpTestClient garbage = await server.ConnectAsync(server.Server.ImplicitTlsEndpoints.Single());

        await garbage.SendAsync("EHLO x\r\nMAIL FROM:<a@b>\r\n\0\0\0\r\n");
        bool closed = await garbage.WaitForCloseAsync();
        using SmtpTestClient good = await server.ConnectAsync(server.Server.ImplicitTlsEndpoints.Single());
        await good.StartTlsAsync();

        Assert.True(closed);
        Assert.StartsWith("220 relay.test", await good.ReadReplyAsync());
        Assert.Empty(server.AllSpoolFiles());
    }


    [Fact]
    public async Task ImplicitTls_SilentClient_IsClosedAfterIdleTimeout()
    {
        await using TestServer server = await SmtpTlsTests.StartWithCertificateAsync(configure: o =>
        {
            o.ImplicitTlsPorts.Add(0);
            o.IdleTimeout = TimeSpan.FromMilliseconds(300);
        });
        using SmtpTestClient silent = await server.ConnectAsync(server.Server.ImplicitTlsEndpoints.Single());

        bool closed = await silent.WaitForCloseAsync();

        Assert.True(closed);
        await TestServer.WaitUntilAsync(() => server.Server.GetStatistics().ConnectionsActive == 0, "the silent TLS connection to be counted as closed");
    }

    [Fact]
    public async Task Data_ClientClosesRightAfterFinalDot_MessageIsCommittedWhole()
    {
        await using TestServer server = await TestServer.StartAsync();
        SmtpTestClient client = await server.ConnectGreetedAsync();
        await client.OpenTransactionAsync();
        await client.CommandAsync("DATA");

        await client.SendAsync("Subject: last\r\n\r\nbody\r\n.\r\n");
        client.Dispose();

        await TestServer.WaitUntilAsync(() => server.Envelopes().Length == 1 && server.Envelopes("*.new").Length == 0, "the message to be committed");
        string id = Path.GetFileNameWithoutExtension(server.Envelopes().Single());
        Assert.EndsWith("Subject: last\r\n\r\nbody\r\n", server.ReadContent(id));
    }

    [Theory]
    [InlineData(255, "250")]
    [InlineData(256, "501 5.5.4")]
    public async Task Hello_DomainOverRfcLimit_IsRefusedSoReceivedStaysUnder998Octets(int length, string expected)
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();

        string reply = await client.CommandAsync("HELO " + new string('h', length));

        Assert.StartsWith(expected, reply);
    }
}
