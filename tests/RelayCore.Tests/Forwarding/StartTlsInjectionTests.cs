// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Tasks;
using MailKit.Net.Smtp;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Forwarding;

/// <summary>
/// The STARTTLS response injection class of bug (CVE-2011-0411): bytes that arrive in clear before TLS,
/// from the next hop or a man in the middle, must never be read as replies of the TLS session.
/// </summary>
public sealed class StartTlsInjectionTests
{
    // What the TLS session really answers to EHLO, and what was injected in clear to pass for it.
    private const string TlsEhloReply = "250-hostile.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
    private const string InjectedEhloReply = "250-injected.test\r\n250 STARTTLS\r\n";

    [Theory]
    [InlineData("220 hostile.test ESMTP\r\n")]
    [InlineData("220-hostile.test ESMTP\r\n220-a greeting\r\n220 of three lines\r\n")]
    public async Task Connect_BytesPipelinedAfterTheGreetingInClear_NotReadAsTheEhloReplyOverTls(string greeting)
    {
        // The greeting with an EHLO reply appended (and the cleartext EHLO left unanswered): a client that replays
        // everything it read before it first spoke would read the injected reply as the answer to EHLO over TLS.
        await using var hop = InjectingHop.Start(greeting + InjectedEhloReply, ehloReplyInClear: string.Empty, startTlsReply: "220 go ahead\r\n");
        using var context = new ForwardingTestContext();

        SmtpCapabilities capabilities = await ConnectAsync(context, hop);

        Assert.True((capabilities & SmtpCapabilities.EightBitMime) != 0, "capabilities " + capabilities + "\n" + context.Log);
        Assert.True((capabilities & SmtpCapabilities.StartTLS) == 0, "capabilities " + capabilities + "\n" + context.Log);
    }

    [Fact]
    public async Task Connect_BytesPipelinedAfterTheStartTlsReplyInClear_NotReadAsTheEhloReplyOverTls()
    {
        await using var hop = InjectingHop.Start("220 hostile.test ESMTP\r\n", ehloReplyInClear: "250-hostile.test\r\n250 STARTTLS\r\n", startTlsReply: "220 go ahead\r\n" + InjectedEhloReply);
        using var context = new ForwardingTestContext();

        SmtpCapabilities capabilities = await ConnectAsync(context, hop);

        Assert.True((capabilities & SmtpCapabilities.EightBitMime) != 0, "capabilities " + capabilities + "\n" + context.Log);
        Assert.True((capabilities & SmtpCapabilities.StartTLS) == 0, "capabilities " + capabilities + "\n" + context.Log);
    }

    private static async Task<SmtpCapabilities> ConnectAsync(ForwardingTestContext context, InjectingHop hop)
    {
        context.Options.Tls = ClientTlsMode.StartTls;
        context.Options.SkipCertificateValidation = true;
        using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);
        Assert.True(client.IsSecure);
        // The transcript shows what the TLS session answered to EHLO, last, as it came.
        Assert.Equal("250 8BITMIME", client.Transcript.Lines.Last(line => !line.FromClient).Text);
        return client.Capabilities;
    }

    /// <summary>A next hop that sends what it is told in clear, each piece in one write, then answers EHLO over TLS.</summary>
    private sealed class InjectingHop : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Task _session;
        private readonly string _directory;

        private InjectingHop(TcpListener listener, string directory, Task session)
        {
            _listener = listener;
            _directory = directory;
            _session = session;
        }

        internal NextHopAddress Address => NextHopAddress.Parse("127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port);

        internal static InjectingHop Start(string greeting, string ehloReplyInClear, string startTlsReply)
        {
            string directory = TestServer.NewDirectory();
            TestCertificate files = TestCertificate.Create(directory);
            var certificate = X509Certificate2.CreateFromPemFile(files.CertificatePemPath, files.KeyPemPath);
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new InjectingHop(listener, directory, AnswerAsync(listener, certificate, greeting, ehloReplyInClear, startTlsReply));
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            try
            {
                await _session.WaitAsync(TestServer.Deadline);
            }
            catch (Exception error) when (error is IOException || error is SocketException || error is ObjectDisposedException)
            {
                // The client closes the session when it is done; the script's own end does not matter.
            }
            Directory.Delete(_directory, recursive: true);
        }

        private static async Task AnswerAsync(TcpListener listener, X509Certificate2 certificate, string greeting, string ehloReplyInClear, string startTlsReply)
        {
            using (certificate)
            using (TcpClient client = await listener.AcceptTcpClientAsync().WaitAsync(TestServer.Deadline))
            {
                NetworkStream clear = client.GetStream();
                await WriteAsync(clear, greeting);
                await ReadLineAsync(clear);
                await WriteAsync(clear, ehloReplyInClear);
                await ReadLineAsync(clear);
                await WriteAsync(clear, startTlsReply);
                using var tls = new SslStream(clear);
                await tls.AuthenticateAsServerAsync(certificate).WaitAsync(TestServer.Deadline);
                await ReadLineAsync(tls);
                await WriteAsync(tls, TlsEhloReply);
                while (await ReadLineAsync(tls) is string line && !line.StartsWith("QUIT", StringComparison.OrdinalIgnoreCase))
                {
                    await WriteAsync(tls, "250 ok\r\n");
                }
            }
        }

        private static async Task WriteAsync(Stream stream, string text)
        {
            if (text.Length > 0)
            {
                byte[] bytes = Encoding.ASCII.GetBytes(text);
                await stream.WriteAsync(bytes).AsTask().WaitAsync(TestServer.Deadline);
            }
        }

        /// <summary>Reads one command line byte by byte, so nothing after it is taken from the stream.</summary>
        private static async Task<string> ReadLineAsync(Stream stream)
        {
            var line = new StringBuilder();
            var one = new byte[1];
            while (await stream.ReadAsync(one).AsTask().WaitAsync(TestServer.Deadline) == 1)
            {
                if (one[0] == '\n')
                {
                    return line.ToString().TrimEnd('\r');
                }
                line.Append((char)one[0]);
            }
            return null;
        }
    }
}
