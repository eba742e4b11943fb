// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Spool;
using RelayCore.Tests.Forwarding.Peers;
using RelayCore.Tests.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

/// <summary>Relay's own pipelined transaction (MAIL, RCPTs and DATA or BDAT in one write) against aiosmtpd offering PIPELINING.</summary>
public sealed class PipelinedTransactionTests
{
    private static readonly string[] s_twoRecipients = { "bob@example.net", "nobody@example.net" };

    private readonly ITestOutputHelper _output;

    public PipelinedTransactionTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Transfer_PipeliningOffered_WholeGroupSentBeforeAnyReply(bool chunking)
    {
        await using SmtpNextHop hop = await StartAsync(chunking);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        byte[] content = ForwardingSpool.SimpleContent("group");
        await spool.AddAsync(content, new[] { "bob@example.net", "carol@example.net" });

        (ForwardingSummary summary, List<ForwardResult> _) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(1, summary.Sent);
        SmtpNextHop.ReceivedMessage received = Assert.Single(hop.Messages());
        Assert.True(received.Pipelined);
        Assert.Equal(chunking, received.Chunked);
        Assert.Equal(content, received.Data);
        Assert.Equal(new[] { "bob@example.net", "carol@example.net" }, received.RcptTos);
        Assert.Equal(0, spool.FileCount);
    }

    [Theory]
    [InlineData(false, "C: DATA")]
    [InlineData(true, "C: BDAT ")]
    public async Task Transfer_PipeliningOffered_DataCommandSentBeforeTheReplyToMail(bool chunking, string dataCommand)
    {
        await using SmtpNextHop hop = await StartAsync(chunking);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("order"));
        var lines = new List<string>();
        ForwardingOptions options = ForwardingSpool.Options(hop.Address, edit =>
        {
            edit.LogLevel = RelayCore.Hosting.RelayLogLevel.Debug;
            edit.Log = (level, text) => { lock (lines) { lines.Add(text); } };
        });

        await spool.ForwardAsync(options);

        List<string> wire = lines.Select(line => line.Substring(line.IndexOf(": ", StringComparison.Ordinal) + 2)).ToList();
        int mail = wire.FindIndex(line => line.StartsWith("C: MAIL FROM:", StringComparison.Ordinal));
        int data = wire.FindIndex(mail, line => line.StartsWith(dataCommand, StringComparison.Ordinal));
        int firstReply = wire.FindIndex(mail, line => line.StartsWith("S: ", StringComparison.Ordinal));
        Assert.True(mail >= 0 && data > mail && data < firstReply, string.Join("\n", wire));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Transfer_OneOfTwoRecipientsRefused_NothingDeliveredMessageBadAndNextMessageSent(bool chunking)
    {
        await using SmtpNextHop hop = await StartAsync(chunking, "--rcpt-reply", "550 5.1.1 no such user", "--reject-rcpt", "nobody@example.net");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        RelayMessage refused = await spool.AddAsync(ForwardingSpool.SimpleContent("two"), s_twoRecipients);
        await spool.AddAsync(ForwardingSpool.SimpleContent("after"));

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal((1, 1, 0), (summary.Sent, summary.Failed, summary.Deferred));
        ForwardResult failed = results.Single(result => result.Id == refused.Id);
        Assert.Equal((ForwardOutcome.Failed, 550), (failed.Outcome, failed.ReplyCode));
        Assert.Equal(new[] { "nobody@example.net" }, failed.RejectedRecipients);
        Assert.Equal(ForwardingSpool.SimpleContent("after"), Assert.Single(hop.Messages()).Data);
        Assert.Equal(refused.Id, Assert.Single(spool.InState(RelayMessageState.Bad)).Id);
    }

    [Fact]
    public async Task Transfer_RefusedAfterDataWasPipelined_ConnectionClosedWithoutEndingTheData()
    {
        await using SmtpNextHop hop = await StartAsync(false, "--rcpt-reply", "550 5.1.1 no such user", "--reject-rcpt", "nobody@example.net");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("two"), s_twoRecipients);
        await spool.AddAsync(ForwardingSpool.SimpleContent("after"));

        await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        // DATA got its 354 with bob accepted: only closing the connection keeps the message from him.
        Assert.Equal(2, hop.Connections);
        Assert.Single(hop.Messages());
    }

    [Fact]
    public async Task Transfer_OnlyRecipientRefused_RsetAndTheSameConnectionCarriesTheNext()
    {
        await using SmtpNextHop hop = await StartAsync(false, "--rcpt-reply", "550 5.1.1 no such user", "--reject-rcpt", "nobody@example.net");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        RelayMessage refused = await spool.AddAsync(ForwardingSpool.SimpleContent("nobody"), new[] { "nobody@example.net" });
        await spool.AddAsync(ForwardingSpool.SimpleContent("after"));

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal((1, 1), (summary.Sent, summary.Failed));
        Assert.Equal(550, results.Single(result => result.Id == refused.Id).ReplyCode);
        Assert.Equal(1, hop.Connections);
        Assert.Single(hop.Messages());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Transfer_ForwardToSomeWithOneRefused_DeliveredToTheOthersAndBadKeepsTheRefused(bool chunking)
    {
        await using SmtpNextHop hop = await StartAsync(chunking, "--rcpt-reply", "550 5.1.1 no such user", "--reject-rcpt", "nobody@example.net");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("some"), new[] { "bob@example.net", "nobody@example.net", "carol@example.net" });

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(
            ForwardingSpool.Options(hop.Address, options => options.ForwardToSome = true));

        Assert.Equal(1, summary.Sent);
        Assert.Equal(new[] { "bob@example.net", "carol@example.net" }, Assert.Single(results).AcceptedRecipients);
        Assert.Equal(new[] { "bob@example.net", "carol@example.net" }, Assert.Single(hop.Messages()).RcptTos);
        RelayMessage bad = Assert.Single(spool.InState(RelayMessageState.Bad));
        Assert.Equal(new[] { "nobody@example.net" }, bad.To);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Transfer_MailRefusedWith4xx_MessagesDeferredAndKept(bool chunking)
    {
        await using SmtpNextHop hop = await StartAsync(chunking, "--mail-reply", "451 4.3.0 try later");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddManyAsync(2);

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(2, summary.Deferred);
        Assert.All(results, result => Assert.Equal(451, result.ReplyCode));
        Assert.Equal(2, spool.InState(RelayMessageState.Ready).Count);
        Assert.Equal(1, hop.Connections);
        Assert.Empty(hop.Messages());
    }

    [Fact]
    public async Task Transfer_MailAnswered530_RouteDeferred()
    {
        await using SmtpNextHop hop = await StartAsync(false, "--mail-reply", "530 5.7.0 Authentication required");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddManyAsync(3);

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(3, summary.Deferred);
        Assert.All(results, result => Assert.Equal(530, result.ReplyCode));
        Assert.Equal(1, hop.Connections);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Transfer_EndOfDataRefusedWith5xx_MessageBadAndConnectionReused(bool chunking)
    {
        await using SmtpNextHop hop = await StartAsync(chunking, "--data-reply", "554 5.6.0 content refused");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddManyAsync(2);

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(2, summary.Failed);
        Assert.All(results, result => Assert.Equal((554, "5.6.0 content refused"), (result.ReplyCode.Value, result.ReplyText)));
        Assert.Equal(2, spool.InState(RelayMessageState.Bad).Count);
        Assert.Equal(1, hop.Connections);
    }

    [Fact]
    public async Task Transfer_ConnectionDroppedAfterData_MessagesDeferredAndNothingLost()
    {
        await using SmtpNextHop hop = await StartAsync(false, "--drop-in-data");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        List<RelayMessage> added = await spool.AddManyAsync(3);

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(3, summary.Deferred);
        Assert.All(results, result => Assert.Null(result.ReplyCode));
        Assert.Equal(added.Select(message => message.Id).OrderBy(id => id), spool.InState(RelayMessageState.Ready).Select(message => message.Id).OrderBy(id => id));
        Assert.Empty(hop.Messages());
    }

    [Fact]
    public async Task Transfer_NextHopNeverAnswersData_DeferredWithinTheResponseTimeout()
    {
        await using SmtpNextHop hop = await StartAsync(false, "--stall-data");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("stalled"));
        var clock = System.Diagnostics.Stopwatch.StartNew();

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(
            ForwardingSpool.Options(hop.Address, options => options.ResponseTimeout = TimeSpan.FromSeconds(1)));

        Assert.Equal(1, summary.Deferred);
        Assert.Contains("did not answer within 1 s", Assert.Single(results).ReplyText, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
        Assert.Single(spool.InState(RelayMessageState.Ready));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Transfer_SeveralMebibytesWithDotLines_ArrivesByteIdentical(bool chunking)
    {
        await using SmtpNextHop hop = await StartAsync(chunking);
        if (hop == null)
        {
            return;
        }
        var text = new StringBuilder("Subject: big\r\n\r\n");
        for (int line = 0; text.Length < 3 * 1024 * 1024; line++)
        {
            text.Append(line % 5 == 0 ? "." : "x").Append(line).Append(' ', 70).Append("\r\n");
        }
        byte[] content = Encoding.ASCII.GetBytes(text.Append("no final line end").ToString());
        using var spool = new ForwardingSpool();
        await spool.AddAsync(content);

        (ForwardingSummary summary, List<ForwardResult> _) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(1, summary.Sent);
        Assert.Equal(content.Concat(new[] { (byte)'\r', (byte)'\n' }).ToArray(), Assert.Single(hop.Messages()).Data);
    }

    // Relay's server offers PIPELINING and CHUNKING: one recipient is BDAT LAST in MAIL's group, two are a chunk then "BDAT 0 LAST".
    [Theory]
    [InlineData(1, MessageBodyType.BinaryMime)]
    [InlineData(2, MessageBodyType.EightBitMime)]
    public async Task Transfer_IntoRelaysOwnServerOverBdat_ContentRecipientsAndBodyTypeKept(int recipients, MessageBodyType bodyType)
    {
        await using TestServer server = await TestServer.StartAsync();
        using var spool = new ForwardingSpool();
        byte[] content = Encoding.UTF8.GetBytes("Subject: bin\r\n\r\nbytes \u00e9\0\u00ff\r\n.\r\nend\r\n");
        string[] to = Enumerable.Range(1, recipients).Select(n => "r" + n + "@example.net").ToArray();
        await spool.AddAsync(content, to, envelope => envelope.BodyType = bodyType);

        (ForwardingSummary summary, List<ForwardResult> _) = await spool.ForwardAsync(
            ForwardingSpool.Options(RelayCore.Net.NextHopAddress.Parse("127.0.0.1:" + server.EndPoint.Port)));

        Assert.Equal(1, summary.Sent);
        string envelopePath = Assert.Single(server.Envelopes());
        Envelope received = Envelope.Parse(System.IO.File.ReadAllText(envelopePath));
        Assert.Equal(bodyType, received.BodyType);
        Assert.Equal(to, received.ToRemote);
        byte[] stored = System.IO.File.ReadAllBytes(System.IO.Path.ChangeExtension(envelopePath, ".content"));
        Assert.Equal(content, stored.Skip(stored.Length - content.Length).ToArray());
    }

    [Fact]
    public async Task Transfer_NextHopSendsAnExtraReply_SessionDroppedAndNextMessageSentOnANewOne()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var deadline = new CancellationTokenSource(TestServer.Deadline);
        Task<int> hop = ServeOutOfStepAsync(listener, deadline.Token);
        using var spool = new ForwardingSpool();
        await spool.AddManyAsync(2);

        (ForwardingSummary summary, List<ForwardResult> _) = await spool.ForwardAsync(
            ForwardingSpool.Options(RelayCore.Net.NextHopAddress.Parse("127.0.0.1:" + ((IPEndPoint)listener.LocalEndpoint).Port)));
        listener.Stop();

        Assert.Equal(2, summary.Sent);
        Assert.Equal(2, await hop);
    }

    /// <summary>
    /// A next hop that answers each message's end of data with one reply too many ("250 extra"); a client
    /// that kept the session would take that line as the next MAIL's reply. Returns the messages it took.
    /// </summary>
    private static async Task<int> ServeOutOfStepAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        int messages = 0;
        for (int connection = 0; connection < 3; connection++)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (Exception error) when (error is OperationCanceledException || error is SocketException || error is ObjectDisposedException)
            {
                break;
            }
            using (client)
            {
                NetworkStream stream = client.GetStream();
                var received = new StringBuilder();
                var buffer = new byte[65536];
                async Task<bool> ReadUntilAsync(string end)
                {
                    while (!received.ToString().Contains(end, StringComparison.Ordinal))
                    {
                        int read = await stream.ReadAsync(buffer, cancellationToken);
                        if (read == 0)
                        {
                            return false;
                        }
                        received.Append(Encoding.ASCII.GetString(buffer, 0, read));
                    }
                    received.Clear();
                    return true;
                }
                Task SendAsync(string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken).AsTask();

                await SendAsync("220 out-of-step.test\r\n");
                await ReadUntilAsync("\r\n");
                await SendAsync("250-out-of-step.test\r\n250 PIPELINING\r\n");
                while (await ReadUntilAsync("DATA\r\n"))
                {
                    await SendAsync("250 sender ok\r\n250 recipient ok\r\n354 go ahead\r\n");
                    if (!await ReadUntilAsync("\r\n.\r\n"))
                    {
                        break;
                    }
                    messages++;
                    await SendAsync("250 queued\r\n250 extra\r\n");
                }
            }
        }
        return messages;
    }

    private Task<SmtpNextHop> StartAsync(bool chunking, params string[] options) =>
        SmtpNextHop.StartAsync(_output, new[] { "--pipelining" }.Concat(chunking ? new[] { "--chunking" } : Array.Empty<string>()).Concat(options).ToArray());
}
