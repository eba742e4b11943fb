// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Threading.Tasks;
using RelayCore.Spool;
using RelayCore.Tests.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Integration;

public class CurlTests
{
    private readonly ITestOutputHelper _output;

    public CurlTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Curl_UploadFile_IsSpooledExactly(bool implicitTls)
    {
        if (!Peer.IsAvailable("curl", _output))
        {
            return;
        }
        (TestServer server, _) = await IntegrationServer.StartAsync();
        await using TestServer running = server;
        string message = Path.Combine(server.Directory, "message.eml");
        File.WriteAllText(message, "From: curl@example.com\r\nTo: rcpt@example.net\r\nSubject: from curl\r\n\r\n.starts with a dot\r\nSent by curl.\r\n");
        string url = implicitTls
            ? "smtps://127.0.0.1:" + IntegrationServer.TlsPort(server) + "/curl.example"
            : "smtp://127.0.0.1:" + IntegrationServer.Port(server) + "/curl.example";

        (int exitCode, string output) = await Peer.RunAsync("curl", "--silent", "--show-error", "--insecure", "--max-time", "30", url,
            "--mail-from", "curl@example.com", "--mail-rcpt", "rcpt@example.net", "--mail-rcpt", "second@example.net", "--upload-file", message);

        Assert.True(exitCode == 0, output);
        (Envelope envelope, string content) = IntegrationServer.SingleMessage(server);
        Assert.Equal("curl@example.com", envelope.From);
        Assert.Equal(new[] { "rcpt@example.net", "second@example.net" }, envelope.ToRemote);
        string received = content.Substring(0, content.IndexOf("\r\n") + 2);
        Assert.StartsWith("Received: from curl.example ([127.0.0.1]) by relay.test with " + (implicitTls ? "ESMTPS" : "ESMTP") + " ; ", received);
        Assert.Equal(File.ReadAllText(message), content.Substring(received.Length));
    }
}
