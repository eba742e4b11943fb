// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Spool;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Forwarding;

/// <summary>Relay's pipelined transaction, and MailKit's, against a next hop that hangs up while Relay cleans up after a refusal.</summary>
public sealed class PipelinedRefusalTests
{
    [Fact]
    public async Task Transfer_RecipientRefused5xxThenConnectionDroppedAtRset_MessageFailedWithTheRefusal()
    {
        // The group's replies are the verdict; the next hop then drops the connection instead of answering RSET.
        await using var hop = DroppingHop.Start("250 2.1.0 sender ok\r\n550 5.1.1 no such user\r\n554 5.5.1 no valid recipients\r\n");
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("refused"), new[] { "nobody@example.net" });

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        AssertFailedWith550(spool, summary, results);
    }

    [Fact]
    public async Task Transfer_NoPipeliningRecipientRefused5xxThenConnectionDroppedAtRset_MessageFailedWithTheRefusal()
    {
        // MailKit's transaction (a next hop without PIPELINING): RCPT refused, then the connection dropped at RSET.
        await using var hop = DroppingHop.Start(null);
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("refused"), new[] { "nobody@example.net" });

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        AssertFailedWith550(spool, summary, results);
    }

    private static void AssertFailedWith550(ForwardingSpool spool, ForwardingSummary summary, List<ForwardResult> results)
    {
        ForwardResult result = Assert.Single(results);
        Assert.Equal((ForwardOutcome.Failed, (int?)550), (result.Outcome, result.ReplyCode));
        Assert.Equal(1, summary.Failed);
        RelayMessage bad = Assert.Single(spool.InState(RelayMessageState.Bad));
        Assert.Equal(550, Assert.Single(bad.Envelope.Reasons).Code);
    }

    /// <summary>A next hop that answers the group with fixed replies (or, given none, offers no PIPELINING and refuses the RCPT), and closes the connection at the next command.</summary>
    private sealed class DroppingHop : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly Task _session;

        private DroppingHop(TcpListener listener, Task session)
        {
            _listener = listener;
            _session = session;
        }

        internal NextHopAddress Address => NextHopAddress.Parse("127.0.0.1:" + ((IPEndPoint)_listener.LocalEndpoint).Port);

        internal static DroppingHop Start(string groupReplies)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new DroppingHop(listener, AnswerAsync(listener, groupReplies));
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            try
            {
                await _session.WaitAsync(TestServer.Deadline);
            }
            catch (IOException)
            {
                // The client may reset the connection it gave up; the script's own end does not matter.
            }
        }

        private static async Task AnswerAsync(TcpListener listener, string groupReplies)
        {
            using TcpClient client = await listener.AcceptTcpClientAsync().WaitAsync(TestServer.Deadline);
            using var reader = new StreamReader(client.GetStream(), Encoding.ASCII);
            using var writer = new StreamWriter(client.GetStream(), Encoding.ASCII) { AutoFlush = true };
            await writer.WriteAsync("220 dropping.test ESMTP\r\n");
            string line;
            while ((line = await reader.ReadLineAsync().WaitAsync(TestServer.Deadline)) != null)
            {
                if (line.StartsWith("EHLO", StringComparison.OrdinalIgnoreCase))
                {
                    await writer.WriteAsync(groupReplies != null ? "250-dropping.test\r\n250 PIPELINING\r\n" : "250 dropping.test\r\n");
                }
                else if (groupReplies == null)
                {
                    // One command at a time: MAIL accepted, RCPT refused, and the command after that never answered.
                    if (line.StartsWith("MAIL", StringComparison.OrdinalIgnoreCase))
                    {
                        await writer.WriteAsync("250 2.1.0 sender ok\r\n");
                    }
                    else if (line.StartsWith("RCPT", StringComparison.OrdinalIgnoreCase))
                    {
                        await writer.WriteAsync("550 5.1.1 no such user\r\n");
                    }
                    else
                    {
                        return;
                    }
                }
                else if (line.StartsWith("DATA", StringComparison.OrdinalIgnoreCase))
                {
                    await writer.WriteAsync(groupReplies);
                    // The command after the group (RSET) is read, never answered.
                    await reader.ReadLineAsync().WaitAsync(TestServer.Deadline);
                    return;
                }
            }
        }
    }
}
