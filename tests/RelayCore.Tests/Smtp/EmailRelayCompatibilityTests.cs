// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using RelayCore.Spool;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Smtp;

/// <summary>
/// Replays the SMTP submissions that made E-MailRelay 2.6b's spool files and compares what Relay
/// stores with what E-MailRelay stored, byte for byte (the Received line's date aside).
/// </summary>
public class EmailRelayCompatibilityTests
{
    [Theory]
    [InlineData("emailrelay.32046.1795422460.1")]
    [InlineData("emailrelay.32046.1795422460.2")]
    [InlineData("emailrelay.32046.1795422460.3")]
    [InlineData("emailrelay.32046.1795422460.4")]
    public async Task Submission_ReplayedFromEmailRelaySpool_StoresTheSameFiles(string emailRelayId)
    {
        string spool = Path.Combine(TestData.EmailRelayDirectory, "spool");
        string expectedEnvelope = File.ReadAllText(Path.Combine(spool, emailRelayId + ".envelope"), Encoding.UTF8);
        string expectedContent = File.ReadAllText(Path.Combine(spool, emailRelayId + ".content"), Encoding.UTF8);
        Envelope original = Envelope.Parse(expectedEnvelope);
        string directory = TestServer.NewDirectory();
        File.Copy(TestData.SecretsPath("server.auth"), Path.Combine(directory, "server.auth"));
        await using TestServer server = await TestServer.StartAsync(o =>
        {
            o.Domain = "relay.example";
            o.ServerSecretsPath = Path.Combine(directory, "server.auth");
        }, directory);
        using SmtpTestClient client = await server.ConnectGreetedAsync();
        Assert.StartsWith("235", await client.CommandAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice\0s3cret"))));

        string mail = "MAIL FROM:<" + original.From + ">" +
            (original.Utf8MailboxNames ? " SMTPUTF8" : original.BodyType == MessageBodyType.EightBitMime ? " BODY=8BITMIME" : string.Empty) +
            (original.MailFromAuthIn.Length > 0 ? " AUTH=" + original.MailFromAuthIn : string.Empty);
        Assert.StartsWith("250", await client.CommandAsync(mail));
        foreach (string recipient in original.ToRemote)
        {
            Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<" + recipient + ">"));
        }
        string body = expectedContent.Substring(expectedContent.IndexOf("\r\n", StringComparison.Ordinal) + 2);
        string stuffed = string.Join("\r\n", body.Split("\r\n").Select(line => line.StartsWith('.') ? "." + line : line));
        string reply = await client.DataAsync(stuffed.Substring(0, stuffed.Length - 2));

        string id = TestServer.IdOf(reply);
        Assert.Equal(expectedEnvelope, File.ReadAllText(Path.Combine(server.SpoolPath, id + ".envelope"), Encoding.UTF8));
        string content = server.ReadContent(id);
        Assert.Equal(WithoutDate(expectedContent), WithoutDate(content));
    }

    private static string WithoutDate(string content)
    {
        int semicolon = content.IndexOf(" ; ", StringComparison.Ordinal);
        int lineEnd = content.IndexOf("\r\n", StringComparison.Ordinal);
        return content.Substring(0, semicolon) + content.Substring(lineEnd);
    }
}
