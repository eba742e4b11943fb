// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Threading.Tasks;
using RelayCore.Spool;
using RelayCore.Tests.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Integration;

public class PythonSmtplibTests
{
    private const string Python = "/usr/bin/python3";

    // argv: port user password; STARTTLS, login, send_message with a UTF-8 subject.
    private const string Script = @"
import smtplib, ssl, sys
from email.message import EmailMessage
port, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
message = EmailMessage()
message['From'] = 'python@example.com'
message['To'] = 'rcpt@example.net, other@example.net'
message['Subject'] = 'from smtplib'
message.set_content('Sent by Python smtplib.\n.leading dot line\n')
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
with smtplib.SMTP('127.0.0.1', port, local_hostname='python.example', timeout=20) as smtp:
    smtp.starttls(context=context)
    smtp.ehlo('python.example')
    smtp.login(user, password)
    smtp.send_message(message)
print('sent')
";

    private readonly ITestOutputHelper _output;

    public PythonSmtplibTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Smtplib_StartTlsLoginSendMessage_IsSpooled()
    {
        if (!Peer.IsAvailable(Python, _output))
        {
            return;
        }
        (TestServer server, _) = await IntegrationServer.StartAsync(o => o.RequireTls = true);
        await using TestServer running = server;

        (int exitCode, string output) = await Peer.RunAsync(Python, "-c", Script, IntegrationServer.Port(server).ToString(), IntegrationServer.User, IntegrationServer.Password);

        Assert.True(exitCode == 0, output);
        (Envelope envelope, string content) = IntegrationServer.SingleMessage(server);
        Assert.Equal("python@example.com", envelope.From);
        Assert.Equal(new[] { "rcpt@example.net", "other@example.net" }, envelope.ToRemote);
        Assert.Equal(IntegrationServer.User, envelope.Authentication);
        Assert.StartsWith("Received: from python.example ([127.0.0.1]) by relay.test with ESMTPSA ; ", content);
        Assert.Contains("Subject: from smtplib\r\n", content);
        Assert.Contains("\r\n.leading dot line\r\n", content);
    }

    [Fact]
    public async Task Smtplib_WrongPassword_RaisesAuthenticationError()
    {
        if (!Peer.IsAvailable(Python, _output))
        {
            return;
        }
        (TestServer server, _) = await IntegrationServer.StartAsync();
        await using TestServer running = server;

        (int exitCode, string output) = await Peer.RunAsync(Python, "-c", Script, IntegrationServer.Port(server).ToString(), IntegrationServer.User, "wrong");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("SMTPAuthenticationError", output);
        Assert.Empty(server.AllSpoolFiles());
    }
}
