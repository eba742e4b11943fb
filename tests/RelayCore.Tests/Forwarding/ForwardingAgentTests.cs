// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Spool;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

public sealed class ForwardingAgentTests
{
    private readonly ITestOutputHelper _output;

    public ForwardingAgentTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task ForwardAsync_ReadyMessages_SentOverOneConnectionAndDeleted()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        List<RelayMessage> added = await spool.AddManyAsync(5);

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(5, summary.Sent);
        Assert.Equal(1, summary.Connections);
        Assert.All(results, result => Assert.Equal(ForwardOutcome.Sent, result.Outcome));
        Assert.Equal(added.Select(message => message.Id), results.Select(result => result.Id));
        Assert.Equal(0, spool.FileCount);
        IReadOnlyList<SmtpNextHop.ReceivedMessage> received = hop.Messages();
        Assert.Equal(5, received.Count);
        Assert.All(received, message => Assert.Equal(1, message.Connection));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => ForwardingSpool.SimpleContent("message " + i)), received.Select(message => message.Data));
        Assert.All(received, message => Assert.Equal("alice@example.com", message.MailFrom));
        Assert.All(received, message => Assert.Equal(new[] { "bob@example.net" }, message.RcptTos));
    }

    [Fact]
    public async Task Data_RefusedWith5xx_MessageBadWithReasonAndCode()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--data-reply", "554 5.7.1 content refused");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        RelayMessage added = await spool.AddAsync(ForwardingSpool.SimpleContent("refused"));

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(1, summary.Failed);
        ForwardResult result = Assert.Single(results);
        Assert.Equal(ForwardOutcome.Failed, result.Outcome);
        Assert.Equal(554, result.ReplyCode);
        RelayMessage bad = Assert.Single(spool.InState(RelayMessageState.Bad));
        Assert.Equal(added.Id, bad.Id);
        Assert.Equal(554, bad.ReasonCode);
        Assert.Contains("content refused", bad.Reason, StringComparison.Ordinal);
        Assert.True(File.Exists(bad.ContentPath));
    }

    [Theory]
    [InlineData("--mail-reply", "451 4.3.0 try again later")]
    [InlineData("--data-reply", "452 4.3.1 out of space")]
    public async Task Transaction_RefusedWith4xx_MessageReadyAgainWithReason(string option, string reply)
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, option, reply);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        RelayMessage added = await spool.AddAsync(ForwardingSpool.SimpleContent("later"));

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(1, summary.Deferred);
        ForwardResult result = Assert.Single(results);
        Assert.Equal(ForwardOutcome.Deferred, result.Outcome);
        Assert.Equal(int.Parse(reply.Substring(0, 3), System.Globalization.CultureInfo.InvariantCulture), result.ReplyCode);
        Assert.Contains(reply.Substring(10), result.ReplyText, StringComparison.Ordinal);
        RelayMessage ready = Assert.Single(spool.InState(RelayMessageState.Ready));
        Assert.Equal(added.Id, ready.Id);
        Assert.Equal(0, ready.RetryCount);
        Assert.Empty(hop.Messages());
    }

    [Fact]
    public async Task Mail_AuthenticationRequired_RouteDeferredAndMessagesKept()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--mail-reply", "530 5.7.0 Authentication required");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddManyAsync(3);

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(3, summary.Deferred);
        Assert.All(results, result => Assert.Equal(530, result.ReplyCode));
        Assert.Equal(3, spool.InState(RelayMessageState.Ready).Count);
        Assert.Equal(1, hop.Connections);
    }

    [Fact]
    public async Task Rcpt_OneOfTwoRefusedWith5xx_NothingSentAndMessageBad()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--rcpt-reply", "550 5.1.1 no such user", "--reject-rcpt", "nobody@example.net");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("two"), new[] { "bob@example.net", "nobody@example.net" });

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(1, summary.Failed);
        ForwardResult result = Assert.Single(results);
        Assert.Equal(550, result.ReplyCode);
        Assert.Equal(new[] { "nobody@example.net" }, result.RejectedRecipients);
        Assert.Empty(hop.Messages());
        RelayMessage bad = Assert.Single(spool.InState(RelayMessageState.Bad));
        Assert.Equal(new[] { "bob@example.net", "nobody@example.net" }, bad.To);
    }

    [Fact]
    public async Task Rcpt_RefusedWith4xx_MessageDeferred()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--rcpt-reply", "450 4.2.1 mailbox busy");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("busy"));

        (ForwardingSummary summary, List<ForwardResult> _) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(1, summary.Deferred);
        Assert.Single(spool.InState(RelayMessageState.Ready));
        Assert.Empty(hop.Messages());
    }

    [Fact]
    public async Task ForwardToSome_OneRecipientRefused_SentToTheOtherAndBadMessageKeepsOnlyTheRefused()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--rcpt-reply", "550 5.1.1 no such user", "--reject-rcpt", "nobody@example.net");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        byte[] content = ForwardingSpool.SimpleContent("some");
        RelayMessage added = await spool.AddAsync(content, new[] { "bob@example.net", "nobody@example.net", "carol@example.net" });

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(
            ForwardingSpool.Options(hop.Address, options => options.ForwardToSome = true));

        Assert.Equal(1, summary.Sent);
        ForwardResult result = Assert.Single(results);
        Assert.Equal(new[] { "bob@example.net", "carol@example.net" }, result.AcceptedRecipients);
        Assert.Equal(new[] { "nobody@example.net" }, result.RejectedRecipients);
        SmtpNextHop.ReceivedMessage received = Assert.Single(hop.Messages());
        Assert.Equal(new[] { "bob@example.net", "carol@example.net" }, received.RcptTos);
        RelayMessage bad = Assert.Single(spool.Spool.Find(null, null));
        Assert.Equal(added.Id, bad.Id);
        Assert.Equal(RelayMessageState.Bad, bad.State);
        Assert.Equal(new[] { "nobody@example.net" }, bad.To);
        Assert.Equal(550, bad.ReasonCode);
        Assert.Equal(content, File.ReadAllBytes(bad.ContentPath));
        Assert.Empty(Directory.GetFiles(spool.Path, "*.tmp"));
    }

    [Fact]
    public async Task Data_ConnectionDroppedMidData_MessagesOfThatRouteDeferredAndNothingLost()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--drop-in-data");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        List<RelayMessage> added = await spool.AddManyAsync(3);

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal(3, summary.Deferred);
        Assert.All(results, result => Assert.Equal(ForwardOutcome.Deferred, result.Outcome));
        Assert.All(results, result => Assert.Null(result.ReplyCode));
        Assert.Equal(added.Select(message => message.Id).OrderBy(id => id), spool.InState(RelayMessageState.Ready).Select(message => message.Id).OrderBy(id => id));
        Assert.Equal(1, hop.Connections);
        Assert.Empty(hop.Messages());
    }

    [Fact]
    public async Task Connect_NothingListening_AllDeferredWithTheReason()
    {
        using var spool = new ForwardingSpool();
        await spool.AddManyAsync(2);
        var closed = RelayCore.Net.NextHopAddress.Parse("127.0.0.1:" + UnusedPort());

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(closed));

        Assert.Equal(2, summary.Deferred);
        Assert.Equal(0, summary.Connections);
        Assert.All(results, result => Assert.StartsWith("Cannot connect to 127.0.0.1:", result.ReplyText, StringComparison.Ordinal));
        Assert.Equal(2, spool.InState(RelayMessageState.Ready).Count);
    }

    [Fact]
    public async Task ForwardToAddress_SetOnOneMessage_ThatMessageGoesToTheSecondNextHop()
    {
        await using SmtpNextHop first = await SmtpNextHop.StartAsync(_output);
        await using SmtpNextHop second = await SmtpNextHop.StartAsync(_output);
        if (first == null || second == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("default"));
        await spool.AddAsync(ForwardingSpool.SimpleContent("routed"), edit: envelope => envelope.ForwardToAddress = second.Address.ToString());

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(first.Address));

        Assert.Equal(2, summary.Sent);
        Assert.Equal(ForwardingSpool.SimpleContent("default"), Assert.Single(first.Messages()).Data);
        Assert.Equal(ForwardingSpool.SimpleContent("routed"), Assert.Single(second.Messages()).Data);
        Assert.Contains(results, result => result.NextHop == second.Address.ToString());
    }

    [Fact]
    public async Task Pipelining_Offered_MailAndRcptSentWithoutWaiting()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--pipelining");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("pipelined"), new[] { "bob@example.net", "carol@example.net" });

        await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.True(Assert.Single(hop.Messages()).Pipelined);
    }

    [Fact]
    public async Task Pipelining_NotOffered_EachCommandWaitsForItsReply()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("lockstep"), new[] { "bob@example.net", "carol@example.net" });

        await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.False(Assert.Single(hop.Messages()).Pipelined);
    }

    [Fact]
    public async Task MaxConnections_Four_ParallelConnectionsShareTheQueue()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--pipelining");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddManyAsync(40);

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(
            ForwardingSpool.Options(hop.Address, options => options.MaxConnections = 4));

        Assert.Equal(40, summary.Sent);
        Assert.Equal(40, results.Select(result => result.Id).Distinct().Count());
        Assert.Equal(40, hop.Messages().Count);
        Assert.InRange(hop.Connections, 2, 4);
        Assert.Equal(hop.Connections, summary.Connections);
        Assert.Equal(0, spool.FileCount);
    }

    [Fact]
    public async Task IdleTimeout_TwoRunsOnOneAgent_SecondReusesTheConnectionAndDisposeQuits()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        var agent = new ForwardingAgent(ForwardingSpool.Options(hop.Address, options => options.IdleTimeout = TimeSpan.FromMinutes(1)));
        await spool.AddAsync(ForwardingSpool.SimpleContent("first"));
        ForwardingSummary first = await agent.ForwardAsync(spool.Spool, null, null, CancellationToken.None);
        await spool.AddAsync(ForwardingSpool.SimpleContent("second"));

        ForwardingSummary second = await agent.ForwardAsync(spool.Spool, null, null, CancellationToken.None);
        int quitsBeforeDispose = hop.Quits;
        await agent.DisposeAsync();

        Assert.Equal((1, 1), (first.Sent, first.Connections));
        Assert.Equal((1, 0), (second.Sent, second.Connections));
        Assert.Equal(1, hop.Connections);
        Assert.Equal(0, quitsBeforeDispose);
        Assert.True(await SmtpNextHop.WaitForAsync(() => hop.Quits == 1, TimeSpan.FromSeconds(10)), "the idle connection was not ended with QUIT");
    }

    [Fact]
    public async Task IdleTimeout_Elapsed_ConnectionEndedWithQuit()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await using var agent = new ForwardingAgent(ForwardingSpool.Options(hop.Address, options => options.IdleTimeout = TimeSpan.FromMilliseconds(300)));
        await spool.AddAsync(ForwardingSpool.SimpleContent("idle"));

        await agent.ForwardAsync(spool.Spool, null, null, CancellationToken.None);

        Assert.True(await SmtpNextHop.WaitForAsync(() => hop.Quits == 1, TimeSpan.FromSeconds(10)), "the idle connection was not ended with QUIT");
    }

    [Fact]
    public async Task ForwardAsync_CancelledMidTransaction_InFlightClaimReturnedToReady()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--stall-data");
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        await spool.AddManyAsync(3);
        await using var agent = new ForwardingAgent(ForwardingSpool.Options(hop.Address));
        using var cancel = new CancellationTokenSource();

        Task<ForwardingSummary> run = agent.ForwardAsync(spool.Spool, null, null, cancel.Token);
        bool stalled = await SmtpNextHop.WaitForAsync(() => hop.Stalls > 0, TimeSpan.FromSeconds(10));
        int busyInFlight = spool.InState(RelayMessageState.Busy).Count;
        cancel.Cancel();

        Assert.True(stalled, "the agent never reached DATA");
        Assert.Equal(1, busyInFlight);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Equal(3, spool.InState(RelayMessageState.Ready).Count);
        Assert.Empty(spool.InState(RelayMessageState.Busy));
    }

    [Fact]
    public async Task ContentFile_Missing_MessageFailsAndTheNextOneIsSent()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        RelayMessage broken = await spool.AddAsync(ForwardingSpool.SimpleContent("broken"));
        await spool.AddAsync(ForwardingSpool.SimpleContent("fine"));
        File.Delete(broken.ContentPath);

        (ForwardingSummary summary, List<ForwardResult> _) = await spool.ForwardAsync(ForwardingSpool.Options(hop.Address));

        Assert.Equal((1, 1, 0), (summary.Sent, summary.Failed, summary.Deferred));
        Assert.Contains("content file is missing", Assert.Single(spool.InState(RelayMessageState.Bad)).Reason, StringComparison.Ordinal);
        Assert.Equal(ForwardingSpool.SimpleContent("fine"), Assert.Single(hop.Messages()).Data);
    }

    [Fact]
    public async Task ForwardAsync_GivenMessages_OnlyThoseAreSent()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        List<RelayMessage> added = await spool.AddManyAsync(3);
        await using var agent = new ForwardingAgent(ForwardingSpool.Options(hop.Address));

        ForwardingSummary summary = await agent.ForwardAsync(spool.Spool, new[] { added[1] }, null, CancellationToken.None);

        Assert.Equal(1, summary.Sent);
        Assert.Equal(ForwardingSpool.SimpleContent("message 1"), Assert.Single(hop.Messages()).Data);
        Assert.Equal(new[] { added[0].Id, added[2].Id }, spool.InState(RelayMessageState.Ready).Select(message => message.Id));
    }

    [Fact]
    public async Task ForwardAsync_MessageClaimedElsewhere_SkippedWithoutAResult()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }
        using var spool = new ForwardingSpool();
        List<RelayMessage> added = await spool.AddManyAsync(2);
        using ClaimedMessage elsewhere = spool.Spool.TryClaim(added[0]);
        var results = new List<ForwardResult>();
        await using var agent = new ForwardingAgent(ForwardingSpool.Options(hop.Address));

        ForwardingSummary summary = await agent.ForwardAsync(spool.Spool, added, results.Add, CancellationToken.None);

        Assert.Equal((1, 0, 0), (summary.Sent, summary.Failed, summary.Deferred));
        Assert.Equal(added[1].Id, Assert.Single(results).Id);
        Assert.True(File.Exists(elsewhere.Message.EnvelopePath));
    }

    [Fact]
    public async Task ForwardToAddress_Unparsable_MessageFailsWithoutAConnection()
    {
        using var spool = new ForwardingSpool();
        await spool.AddAsync(ForwardingSpool.SimpleContent("lost"), edit: envelope => envelope.ForwardToAddress = "no port here");
        var unused = RelayCore.Net.NextHopAddress.Parse("127.0.0.1:" + UnusedPort());

        (ForwardingSummary summary, List<ForwardResult> results) = await spool.ForwardAsync(ForwardingSpool.Options(unused));

        Assert.Equal((0, 1, 0, 0), (summary.Sent, summary.Failed, summary.Deferred, summary.Connections));
        Assert.Contains("invalid ForwardToAddress", Assert.Single(results).ReplyText, StringComparison.Ordinal);
        Assert.Single(spool.InState(RelayMessageState.Bad));
    }

    [Fact]
    public void Constructor_NoNextHop_ThrowsArgumentException()
    {
        var options = new ForwardingOptions();

        Assert.Throws<ArgumentException>(() => new ForwardingAgent(options));
    }

    private static int UnusedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
