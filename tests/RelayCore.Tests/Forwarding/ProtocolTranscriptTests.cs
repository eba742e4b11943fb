// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using MailKit;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using Xunit;

namespace RelayCore.Tests.Forwarding;

public sealed class ProtocolTranscriptTests
{
    [Fact]
    public void LogServer_ReplySplitAcrossReads_OneLinePerReplyLine()
    {
        var transcript = new ProtocolTranscript(null, RelayLogLevel.Information, string.Empty);

        Server(transcript, "250-next-hop.test\r\n250-SI");
        Server(transcript, "ZE 1000\r\n250 HELP\r\n");

        Assert.Equal(new[] { "250-next-hop.test", "250-SIZE 1000", "250 HELP" }, transcript.Lines.Select(l => l.Text));
    }

    [Fact]
    public void LogClient_SecretDetected_MaskedInLinesAndLog()
    {
        var log = new ConcurrentQueue<string>();
        var transcript = new ProtocolTranscript((level, text) => log.Enqueue(text), RelayLogLevel.Debug, "t: ")
        {
            AuthenticationSecretDetector = new FixedSecret("AGFsaWNlAHMzY3JldA=="),
        };

        Client(transcript, "AUTH PLAIN AGFsaWNlAHMzY3JldA==\r\n");

        Assert.Equal("AUTH PLAIN ********", Assert.Single(transcript.Lines).Text);
        Assert.Equal("t: C: AUTH PLAIN ********", Assert.Single(log));
    }

    [Fact]
    public void LastCommand_SaslContinuation_StaysAuth()
    {
        var transcript = new ProtocolTranscript(null, RelayLogLevel.Information, string.Empty);

        Client(transcript, "AUTH LOGIN\r\n");
        Client(transcript, "YWxpY2U=\r\n");

        Assert.Equal("AUTH", transcript.LastCommand);
    }

    [Fact]
    public void NotRecordingAndNotDebug_KeepsNothing()
    {
        var transcript = new ProtocolTranscript(null, RelayLogLevel.Information, string.Empty) { IsRecording = false };

        Server(transcript, "250 OK\r\n");

        Assert.Empty(transcript.Lines);
    }

    private static void Client(ProtocolTranscript transcript, string text) => Feed(transcript.LogClient, text);

    private static void Server(ProtocolTranscript transcript, string text) => Feed(transcript.LogServer, text);

    private static void Feed(System.Action<byte[], int, int> log, string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        log(bytes, 0, bytes.Length);
    }

    /// <summary>Marks one known string as the secret, as MailKit's SMTP detector marks an AUTH argument.</summary>
    private sealed class FixedSecret : IAuthenticationSecretDetector
    {
        private readonly string _secret;

        internal FixedSecret(string secret) => _secret = secret;

        public IList<AuthenticationSecret> DetectSecrets(byte[] buffer, int offset, int count)
        {
            int at = Encoding.ASCII.GetString(buffer, offset, count).IndexOf(_secret, System.StringComparison.Ordinal);
            return at < 0 ? new List<AuthenticationSecret>() : new List<AuthenticationSecret> { new AuthenticationSecret(offset + at, _secret.Length) };
        }
    }
}
