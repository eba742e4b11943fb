// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Threading;
using System.Threading.Tasks;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using RelayCore.Spool;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Integration;

/// <summary>MailKit's SmtpClient, a client library nobody here wrote, against the running server.</summary>
public class MailKitTests
{
    private static MimeMessage NewMessage(string subject)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("mailkit@example.com"));
        message.To.Add(MailboxAddress.Parse("rcpt@example.net"));
        message.Cc.Add(MailboxAddress.Parse("cc@example.net"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "Sent by MailKit.\n.dot at line start\nGrüße\n" };
        return message;
    }

    [Theory]
    [InlineData(SecureSocketOptions.StartTls)]
    [InlineData(SecureSocketOptions.SslOnConnect)]
    public async Task MailKit_TlsAuthAndSend_IsSpooledWithSameBody(SecureSocketOptions security)
    {
        (TestServer server, _) = await IntegrationServer.StartAsync(o => o.RequireAuthentication = true);
        await using TestServer running = server;
        int port = security == SecureSocketOptions.SslOnConnect ? IntegrationServer.TlsPort(server) : IntegrationServer.Port(server);
        using var cancel = new CancellationTokenSource(TestServer.Deadline);
        using var client = new SmtpClient { ServerCertificateValidationCallback = (sender, certificate, chain, errors) => true, LocalDomain = "mailkit.example" };
        MimeMessage message = NewMessage("from MailKit");

        await client.ConnectAsync("127.0.0.1", port, security, cancel.Token);
        await client.AuthenticateAsync(IntegrationServer.User, IntegrationServer.Password, cancel.Token);
        string response = await client.SendAsync(message, cancel.Token);
        await client.DisconnectAsync(true, cancel.Token);

        Assert.StartsWith("2.0.0 OK id=", response);
        (Envelope envelope, string content) = IntegrationServer.SingleMessage(server);
        Assert.Equal(new[] { "rcpt@example.net", "cc@example.net" }, envelope.ToRemote);
        Assert.Equal(IntegrationServer.User, envelope.Authentication);
        Assert.StartsWith("Received: from mailkit.example ([127.0.0.1]) by relay.test with ESMTPSA ; ", content);
        MimeMessage stored = MimeMessage.Load(new System.IO.MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)));
        Assert.Equal("from MailKit", stored.Subject);
        Assert.Equal(((TextPart)message.Body).Text, stored.TextBody);
        Assert.Contains("\r\n.dot at line start\r\n", content);
    }

    [Fact]
    public async Task MailKit_CramMd5AgainstMd5Secret_Authenticates()
    {
        (TestServer server, _) = await IntegrationServer.StartAsync();
        await using TestServer running = server;
        using var cancel = new CancellationTokenSource(TestServer.Deadline);
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", IntegrationServer.Port(server), SecureSocketOptions.None, cancel.Token);

        await client.AuthenticateAsync(new SaslMechanismCramMd5(IntegrationServer.Md5User, IntegrationServer.Md5Password), cancel.Token);

        Assert.True(client.IsAuthenticated);
        await client.DisconnectAsync(true, cancel.Token);
    }

    [Fact]
    public async Task MailKit_OverSizeLimit_GetsSmtpCommandException552()
    {
        (TestServer server, _) = await IntegrationServer.StartAsync(o => o.MaxMessageSize = 200);
        await using TestServer running = server;
        using var cancel = new CancellationTokenSource(TestServer.Deadline);
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", IntegrationServer.Port(server), SecureSocketOptions.None, cancel.Token);
        MimeMessage message = NewMessage(new string('s', 300));

        var error = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(message, cancel.Token));

        Assert.Equal(SmtpStatusCode.ExceededStorageAllocation, error.StatusCode);
        Assert.Empty(server.AllSpoolFiles());
    }
}
