// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MailKit.Net.Smtp;
using MimeKit;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.Net;
using RelayCore.Spool;
using RelayCore.Submission;
using RelayCore.Tests.Forwarding.Peers;
using RelayCore.Tests.Integration;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Hosting;

/// <summary>
/// The server's forwarding triggers end to end: real submitting clients (MailKit, swaks), the server,
/// and Python's aiosmtpd as the next hop (<see cref="SmtpNextHop"/>).
/// </summary>
public sealed class ServerForwardingTests
{
    private readonly ITestOutputHelper _output;

    public ServerForwardingTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string, string> BadForwardingOptions() => new TheoryData<string, string>
    {
        { "start-without-forwarding", "ForwardOnStart needs Forwarding" },
        { "disconnect-without-forwarding", "ForwardOnDisconnect needs Forwarding" },
        { "immediate-without-forwarding", "ForwardImmediately needs Forwarding" },
        { "poll-without-forwarding", "PollInterval needs Forwarding" },
        { "negative-poll", "PollInterval must be zero" },
        { "no-next-hop", "Forwarding needs a next hop" },
        { "zero-connections", "The forwarding options are not valid" },
    };

    [Theory]
    [MemberData(nameof(BadForwardingOptions))]
    public async Task StartAsync_BadForwardingOptions_ThrowsArgumentExceptionSayingWhy(string problem, string message)
    {
        Action<RelayServerOptions> breakIt = problem switch
        {
            "start-without-forwarding" => o => o.ForwardOnStart = true,
            "disconnect-without-forwarding" => o => o.ForwardOnDisconnect = true,
            "immediate-without-forwarding" => o => o.ForwardImmediately = true,
            "poll-without-forwarding" => o => o.PollInterval = TimeSpan.FromSeconds(1),
            "negative-poll" => o => { o.Forwarding = new ForwardingOptions { NextHop = DeadAddress() }; o.PollInterval = TimeSpan.FromSeconds(-1); },
            "zero-connections" => o => o.Forwarding = new ForwardingOptions { NextHop = DeadAddress(), MaxConnections = 0 },
            _ => o => o.Forwarding = new ForwardingOptions(),
        };

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => TestServer.StartAsync(breakIt));

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task ForwardOnStart_PrefilledSpool_EveryMessageArrivesOnceAndTheSpoolEmpties()
    {
        string directory = TestServer.NewDirectory();
        RelayMessage[] prefilled = await PrefillAsync(directory, 5);

        await using Rig rig = await StartAsync(o => o.ForwardOnStart = true, directory);
        if (rig == null)
        {
            return;
        }
        await WaitForStatisticsAsync(rig.Server, s => s.Forwarded == 5, "5 messages forwarded");

        AssertEachArrivedOnce(rig.Hop, Prefilled(5));
        Assert.Empty(rig.Server.AllSpoolFiles());
        Assert.Equal(prefilled.Sum(m => m.Size), rig.Server.Server.GetStatistics().BytesForwarded);
        Assert.All(prefilled, m => Assert.Contains(rig.Server.LogLines, line =>
            line.StartsWith("Information: forwarded: " + m.Id + " to " + rig.Hop.Address + ": 250 ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ForwardOnDisconnect_ClientQuits_MessageReachesTheNextHopOnlyAfterTheQuit()
    {
        await using Rig rig = await StartAsync(o => o.ForwardOnDisconnect = true);
        if (rig == null)
        {
            return;
        }
        using var cancel = new CancellationTokenSource(TestServer.Deadline);
        using SmtpClient client = await ConnectMailKitAsync(rig.Server, cancel.Token);

        string reply = await client.SendAsync(NewMessage("proxied"), cancel.Token);
        RelayServerStatistics whileConnected = rig.Server.Server.GetStatistics();
        string[] spooledWhileConnected = rig.Server.Envelopes();
        await client.DisconnectAsync(quit: true, cancel.Token);
        await WaitForStatisticsAsync(rig.Server, s => s.Forwarded == 1, "the message forwarded after QUIT");

        Assert.StartsWith("2.0.0 OK id=", reply);
        Assert.Equal(0, whileConnected.ForwardingRuns);
        Assert.Single(spooledWhileConnected);
        AssertEachArrivedOnce(rig.Hop, "proxied");
        Assert.Empty(rig.Server.AllSpoolFiles());
    }

    [Fact]
    public async Task ForwardOnDisconnect_ManyClientsAtOnce_TriggersCoalesceAndNothingIsSentTwice()
    {
        const int Clients = 20;
        await using Rig rig = await StartAsync(o => o.ForwardOnDisconnect = true);
        if (rig == null)
        {
            return;
        }
        string[] subjects = Enumerable.Range(1, Clients).Select(i => "client " + i).ToArray();

        await Task.WhenAll(subjects.Select(subject => SubmitAndQuitAsync(rig.Server, subject)));
        await WaitForStatisticsAsync(rig.Server, s => s.Forwarded == Clients, Clients + " messages forwarded");

        AssertEachArrivedOnce(rig.Hop, subjects);
        RelayServerStatistics statistics = rig.Server.Server.GetStatistics();
        Assert.InRange(statistics.ForwardingRuns, 1, Clients);
        Assert.Equal(0, statistics.ForwardDeferred + statistics.ForwardFailed);
        Assert.Empty(rig.Server.AllSpoolFiles());
    }

    [Fact]
    public async Task ForwardOnDisconnect_ClientsOneAfterAnother_EachClientsMessageArrivesOnceAfterItQuits()
    {
        await using Rig rig = await StartAsync(o => o.ForwardOnDisconnect = true);
        if (rig == null)
        {
            return;
        }
        string[] subjects = { "first", "second", "third" };

        for (int i = 0; i < subjects.Length; i++)
        {
            await SubmitAndQuitAsync(rig.Server, subjects[i]);
            int forwarded = i + 1;
            await WaitForStatisticsAsync(rig.Server, s => s.Forwarded == forwarded && s.ForwardingRuns == forwarded, "message " + forwarded + " forwarded in its own pass");
        }

        AssertEachArrivedOnce(rig.Hop, subjects);
        Assert.Equal(subjects.Length, rig.Server.Server.GetStatistics().ForwardingRuns);
        Assert.Empty(rig.Server.AllSpoolFiles());
    }

    [Fact]
    public async Task ForwardOnDisconnect_ReadyMessagesLeftFromBeforeTheStart_FirstDisconnectForwardsThemToo()
    {
        string directory = TestServer.NewDirectory();
        await PrefillAsync(directory, 2);
        await using Rig rig = await StartAsync(o => o.ForwardOnDisconnect = true, directory);
        if (rig == null)
        {
            return;
        }

        await SubmitAndQuitAsync(rig.Server, "proxied");
        await WaitForStatisticsAsync(rig.Server, s => s.Forwarded == 3, "the left-over and the new messages forwarded");

        AssertEachArrivedOnce(rig.Hop, Prefilled(2).Concat(new[] { "proxied" }).ToArray());
        Assert.Empty(rig.Server.AllSpoolFiles());
    }

    [Fact]
    public async Task ForwardOnDisconnectWithImmediate_ClientsOneAfterAnother_EachSentOnceAndNoPassTriesThemAgain()
    {
        var agentLog = new ConcurrentQueue<string>();
        await using Rig rig = await StartAsync(o =>
        {
            o.ForwardOnDisconnect = o.ForwardImmediately = true;
            o.Forwarding.Log = (level, text) => agentLog.Enqueue(text);
        });
        if (rig == null)
        {
            return;
        }
        string[] subjects = { "first", "second" };

        for (int i = 0; i < subjects.Length; i++)
        {
            await SubmitAndQuitAsync(rig.Server, subjects[i]);
            int done = i + 1;
            await WaitForStatisticsAsync(rig.Server, s => s.Forwarded == done && s.ForwardingRuns == done, "message " + done + " forwarded and its pass run");
        }

        AssertEachArrivedOnce(rig.Hop, subjects);
        Assert.DoesNotContain(agentLog, line => line.StartsWith("skipped", StringComparison.Ordinal));
        Assert.Empty(rig.Server.AllSpoolFiles());
    }

    [Fact]
    public async Task ForwardOnDisconnect_NextHopDead_LaterDisconnectsShareOnePassAfterTheRetryDelay()
    {
        NextHopAddress dead = DeadAddress();
        await using TestServer server = await TestServer.StartAsync(o => Forward(o, dead).ForwardOnDisconnect = true);
        await SubmitAndQuitAsync(server, "first");
        await WaitForStatisticsAsync(server, s => s.ForwardingRuns == 1 && s.ForwardDeferred == 1, "the first pass deferring the first message");

        foreach (string subject in new[] { "second", "third", "fourth" })
        {
            await SubmitAndQuitAsync(server, subject);
        }
        RelayServerStatistics withinTheDelay = server.Server.GetStatistics();
        await WaitForStatisticsAsync(server, s => s.ForwardingRuns == 2, "one pass after the retry delay");

        Assert.Equal(1, withinTheDelay.ForwardingRuns);
        Assert.Equal(1 + 4, server.Server.GetStatistics().ForwardDeferred);
        Assert.Equal(4, server.Envelopes().Length);
        Assert.Contains(server.LogLines, line => line.StartsWith("Warning: forwarding got nothing through to " + dead, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Immediate_NextHopAccepts_ClientGets250NamingTheNextHopsReply()
    {
        await using Rig rig = await StartAsync(o => o.ForwardImmediately = true);
        if (rig == null)
        {
            return;
        }
        using var cancel = new CancellationTokenSource(TestServer.Deadline);
        using SmtpClient client = await ConnectMailKitAsync(rig.Server, cancel.Token);

        string reply = await client.SendAsync(NewMessage("immediate"), cancel.Token);
        string[] spooledAfterReply = rig.Server.AllSpoolFiles();
        int arrivedBeforeQuit = rig.Hop.Messages().Count;
        await client.DisconnectAsync(quit: true, cancel.Token);

        Assert.Matches("^2\\.0\\.0 OK id=emailrelay\\.\\S+ forwarded to " + Regex(rig.Hop.Address) + ": 250 ", reply);
        Assert.Equal(1, arrivedBeforeQuit);
        Assert.Empty(spooledAfterReply);
        AssertEachArrivedOnce(rig.Hop, "immediate");
    }

    [Fact]
    public async Task Immediate_BdatLast_ReplyComesAfterTheNextHopHasTheMessage()
    {
        await using Rig rig = await StartAsync(o => o.ForwardImmediately = true);
        if (rig == null)
        {
            return;
        }
        using SmtpTestClient client = await rig.Server.ConnectGreetedAsync();
        await client.OpenTransactionAsync("MAIL FROM:<sender@example.com>", "RCPT TO:<rcpt@example.net>");
        const string Content = "Subject: chunked\r\n\r\nIn one chunk.\r\n";

        await client.SendAsync("BDAT " + Content.Length + " LAST\r\n" + Content);
        string reply = await client.ReadReplyAsync();

        Assert.StartsWith("250 2.0.0 OK id=emailrelay.", reply);
        Assert.Contains(" forwarded to " + rig.Hop.Address + ": 250 ", reply);
        AssertEachArrivedOnce(rig.Hop, "chunked");
        Assert.Empty(rig.Server.AllSpoolFiles());
    }

    [Fact]
    public async Task Immediate_NextHopRefuses_ClientGetsTheNextHops5xxAndNothingStaysSpooled()
    {
        await using Rig rig = await StartAsync(o => o.ForwardImmediately = true, null, "--data-reply", "554 5.7.1 Next hop says no");
        if (rig == null)
        {
            return;
        }
        using var cancel = new CancellationTokenSource(TestServer.Deadline);
        using SmtpClient client = await ConnectMailKitAsync(rig.Server, cancel.Token);

        SmtpCommandException refusal = await Assert.ThrowsAsync<SmtpCommandException>(() => client.SendAsync(NewMessage("refused"), cancel.Token));
        await client.DisconnectAsync(quit: true, cancel.Token);

        Assert.Equal(554, (int)refusal.StatusCode);
        Assert.Contains("5.7.1 Next hop says no", refusal.Message);
        Assert.Empty(rig.Server.AllSpoolFiles());
        Assert.Empty(rig.Hop.Messages());
        Assert.Equal(1, rig.Server.Server.GetStatistics().ForwardFailed);
        Assert.Equal(1, rig.Server.Server.GetStatistics().MessagesRejected);
    }

    [Fact]
    public async Task Immediate_NextHopDefers_ClientGetsThe4xxAndNothingStaysSpooled()
    {
        if (!Peer.IsAvailable("swaks", _output))
        {
            return;
        }
        await using Rig rig = await StartAsync(o => o.ForwardImmediately = true, null, "--mail-reply", "452 4.3.1 Next hop is full");
        if (rig == null)
        {
            return;
        }

        (int exitCode, string output) = await Swaks(rig.Server, "deferred");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("<** 452 4.3.1 Next hop is full", output);
        Assert.Empty(rig.Server.AllSpoolFiles());
        Assert.Equal(1, rig.Server.Server.GetStatistics().ForwardDeferred);
    }

    [Fact]
    public async Task Immediate_NextHopDead_ClientGets451AndNothingStaysSpooled()
    {
        if (!Peer.IsAvailable("swaks", _output))
        {
            return;
        }
        NextHopAddress dead = DeadAddress();
        await using TestServer server = await TestServer.StartAsync(o => Forward(o, dead).ForwardImmediately = true);

        (int exitCode, string output) = await Swaks(server, "nobody home");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("<** 451 4.4.1 Next hop " + dead + " not reached", output);
        Assert.Empty(server.AllSpoolFiles());
        Assert.Equal(1, server.Server.GetStatistics().ForwardDeferred);
    }

    [Fact]
    public async Task Poll_MessageSubmittedStraightIntoTheSpool_ArrivesAtTheNextHop()
    {
        await using Rig rig = await StartAsync(o => o.PollInterval = TimeSpan.FromMilliseconds(200));
        if (rig == null)
        {
            return;
        }

        await SubmitAsync(SpoolDirectory.Open(rig.Server.SpoolPath, create: false), "polled");
        await WaitForStatisticsAsync(rig.Server, s => s.Forwarded == 1, "the submitted message forwarded by a poll");

        AssertEachArrivedOnce(rig.Hop, "polled");
        Assert.Empty(rig.Server.AllSpoolFiles());
    }

    [Fact]
    public async Task TriggerForwarding_NoAutomaticTrigger_ForwardsTheSpoolWhenCalled()
    {
        await using Rig rig = await StartAsync(o => { });
        if (rig == null)
        {
            return;
        }
        await SubmitAsync(SpoolDirectory.Open(rig.Server.SpoolPath, create: false), "on demand");
        RelayServerStatistics beforeTrigger = rig.Server.Server.GetStatistics();

        rig.Server.Server.TriggerForwarding();
        await WaitForStatisticsAsync(rig.Server, s => s.Forwarded == 1, "the message forwarded on demand");

        Assert.Equal(0, beforeTrigger.ForwardingRuns);
        AssertEachArrivedOnce(rig.Hop, "on demand");
        Assert.Empty(rig.Server.AllSpoolFiles());
    }

    [Fact]
    public async Task TriggerForwarding_StoreOnlyServer_ThrowsInvalidOperation()
    {
        await using TestServer server = await TestServer.StartAsync();

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(() => server.Server.TriggerForwarding());

        Assert.Contains("without Forwarding options", error.Message);
    }

    [Fact]
    public async Task ForwardOnStart_NextHopDead_MessagesStayReadyAndTheServerKeepsStoring()
    {
        if (!Peer.IsAvailable("swaks", _output))
        {
            return;
        }
        string directory = TestServer.NewDirectory();
        await PrefillAsync(directory, 3);
        NextHopAddress dead = DeadAddress();

        await using TestServer server = await TestServer.StartAsync(o => Forward(o, dead).ForwardOnStart = true, directory);
        await WaitForStatisticsAsync(server, s => s.ForwardDeferred == 3, "3 messages deferred");
        (int exitCode, string output) = await Swaks(server, "stored while the next hop is down");

        Assert.True(exitCode == 0, output);
        Assert.Equal(4, server.Envelopes().Length);
        Assert.Empty(server.Envelopes("*.busy"));
        Assert.Empty(server.Envelopes("*.bad"));
        RelayServerStatistics statistics = server.Server.GetStatistics();
        Assert.Equal(0, statistics.Forwarded);
        Assert.Contains(dead.ToString(), statistics.LastForwardError);
        Assert.NotNull(statistics.LastForwardTime);
        Assert.True(server.Server.IsRunning);
        Assert.Equal(3, server.LogLines.Count(line => line.StartsWith("Warning: forwarding deferred (left ready): ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task StopAsync_DuringAForwardingPass_LeavesNothingBusyAndLosesNothing()
    {
        const int Count = 20;
        string directory = TestServer.NewDirectory();
        await PrefillAsync(directory, Count);

        // The next hop takes three messages, then never answers a DATA: the pass is still running at the stop.
        await using Rig rig = await StartAsync(o =>
        {
            o.ForwardOnStart = true;
            o.ShutdownGracePeriod = TimeSpan.FromMilliseconds(300);
        }, directory, "--stall-data", "--stall-after", "3");
        if (rig == null)
        {
            return;
        }
        string spool = rig.Server.SpoolPath;
        await TestServer.WaitUntilAsync(() => rig.Hop.Stalls == 1, "the next hop stalling a DATA");

        using (var cancel = new CancellationTokenSource(TestServer.Deadline))
        {
            await rig.Server.Server.StopAsync(cancel.Token);
        }

        Assert.Empty(Directory.GetFiles(spool, "*.busy"));
        IEnumerable<string> arrived = rig.Hop.Messages().Select(m => SubjectOf(m.Data));
        IEnumerable<string> stillReady = Directory.GetFiles(spool, "*.content").Select(File.ReadAllBytes).Select(SubjectOf);
        Assert.Equal(Prefilled(Count).OrderBy(s => s), arrived.Concat(stillReady).OrderBy(s => s));
        Assert.Equal(Directory.GetFiles(spool, "*.content").Length, Directory.GetFiles(spool, "*.envelope").Length);
        Assert.Equal(3, rig.Hop.Messages().Count);
    }

    [Fact]
    public async Task StopAsync_DuringAnImmediateForward_ClientIsNotTold250AndNothingStaysSpooled()
    {
        await using Rig rig = await StartAsync(o =>
        {
            o.ForwardImmediately = true;
            o.ShutdownGracePeriod = TimeSpan.FromMilliseconds(300);
        }, null, "--stall-data");
        if (rig == null)
        {
            return;
        }
        using var cancel = new CancellationTokenSource(TestServer.Deadline);
        using SmtpClient client = await ConnectMailKitAsync(rig.Server, cancel.Token);
        Task<string> sending = client.SendAsync(NewMessage("interrupted"), cancel.Token);
        await TestServer.WaitUntilAsync(() => rig.Hop.Stalls == 1, "the next hop stalling the DATA");

        await rig.Server.Server.StopAsync(cancel.Token);
        Exception refusal = await Record.ExceptionAsync(() => sending);

        Assert.NotNull(refusal);
        Assert.False(refusal is SmtpCommandException command && (int)command.StatusCode < 400, refusal.Message);
        Assert.Empty(rig.Server.AllSpoolFiles());
        Assert.Empty(rig.Hop.Messages());
        Assert.Contains(rig.Server.LogLines, line => line.StartsWith("Warning: removed emailrelay.", StringComparison.Ordinal) && line.EndsWith("keeps responsibility for it", StringComparison.Ordinal));
    }

    private static RelayServerOptions Forward(RelayServerOptions options, NextHopAddress nextHop)
    {
        options.Forwarding = new ForwardingOptions
        {
            NextHop = nextHop,
            Tls = ClientTlsMode.None,
            HeloDomain = "relay.test",
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ResponseTimeout = TimeSpan.FromSeconds(10),
        };
        return options;
    }

    internal static MimeMessage NewMessage(string subject)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("sender@example.com"));
        message.To.Add(MailboxAddress.Parse("rcpt@example.net"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "Body of " + subject + ".\n" };
        return message;
    }

    /// <summary>The subjects of <see cref="PrefillAsync"/>'s messages.</summary>
    private static string[] Prefilled(int count) => Enumerable.Range(1, count).Select(i => "prefilled " + i).ToArray();

    /// <summary>Fills the spool of a server yet to start with <see cref="Prefilled"/> messages.</summary>
    private static async Task<RelayMessage[]> PrefillAsync(string directory, int count)
    {
        SpoolDirectory spool = SpoolDirectory.Open(Path.Combine(directory, "spool"), create: true);
        var messages = new List<RelayMessage>();
        foreach (string subject in Prefilled(count))
        {
            messages.Add(await SubmitAsync(spool, subject));
        }
        return messages.ToArray();
    }

    private static async Task<RelayMessage> SubmitAsync(SpoolDirectory spool, string subject)
    {
        using var content = new MemoryStream(Encoding.ASCII.GetBytes("From: sender@example.com\r\nTo: rcpt@example.net\r\nSubject: " + subject + "\r\n\r\nBody.\r\n"));
        using var cancel = new CancellationTokenSource(TestServer.Deadline);
        return await MessageSubmitter.SubmitAsync(spool, content, "sender@example.com", new[] { "rcpt@example.net" }, cancel.Token);
    }

    private static async Task SubmitAndQuitAsync(TestServer server, string subject)
    {
        using var cancel = new CancellationTokenSource(TestServer.Deadline);
        using SmtpClient client = await ConnectMailKitAsync(server, cancel.Token);
        await client.SendAsync(NewMessage(subject), cancel.Token);
        await client.DisconnectAsync(quit: true, cancel.Token);
    }

    private static Task<(int ExitCode, string Output)> Swaks(TestServer server, string subject) =>
        Peer.RunAsync("swaks", "--server", "127.0.0.1", "--port", server.EndPoint.Port.ToString(),
            "--from", "sender@example.com", "--to", "rcpt@example.net", "--helo", "swaks.example",
            "--header", "Subject: " + subject, "--body", "Sent by swaks.", "--timeout", "20");

    private static async Task<SmtpClient> ConnectMailKitAsync(TestServer server, CancellationToken cancellationToken)
    {
        var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", server.EndPoint.Port, MailKit.Security.SecureSocketOptions.None, cancellationToken);
        return client;
    }

    private static Task WaitForStatisticsAsync(TestServer server, Func<RelayServerStatistics, bool> condition, string what) =>
        TestServer.WaitUntilAsync(() => condition(server.Server.GetStatistics()), what);

    /// <summary>Every subject arrived at the next hop exactly once, and nothing else did.</summary>
    private static void AssertEachArrivedOnce(SmtpNextHop hop, params string[] subjects) =>
        Assert.Equal(subjects.OrderBy(s => s, StringComparer.Ordinal), hop.Messages().Select(m => SubjectOf(m.Data)).OrderBy(s => s, StringComparer.Ordinal));

    private static string SubjectOf(byte[] message)
    {
        string line = Encoding.UTF8.GetString(message).Split('\n').FirstOrDefault(l => l.StartsWith("Subject: ", StringComparison.Ordinal));
        return line?.Substring("Subject: ".Length).TrimEnd('\r');
    }

    private static string Regex(NextHopAddress address) => System.Text.RegularExpressions.Regex.Escape(address.ToString());

    /// <summary>A loopback address where nothing listens: a dead next hop.</summary>
    private static NextHopAddress DeadAddress() => NextHopAddress.Parse("127.0.0.1:" + LoopbackPort.Next());

    /// <summary>Starts an aiosmtpd next hop and a server forwarding to it; null when the peer is missing.</summary>
    private async Task<Rig> StartAsync(Action<RelayServerOptions> trigger, string directory = null, params string[] hopOptions)
    {
        SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, hopOptions);
        if (hop == null)
        {
            return null;
        }
        try
        {
            return new Rig(hop, await TestServer.StartAsync(o => trigger(Forward(o, hop.Address)), directory));
        }
        catch
        {
            await hop.DisposeAsync();
            throw;
        }
    }

    /// <summary>A next hop and the server forwarding to it, stopped together.</summary>
    private sealed class Rig : IAsyncDisposable
    {
        internal Rig(SmtpNextHop hop, TestServer server)
        {
            Hop = hop;
            Server = server;
        }

        internal SmtpNextHop Hop { get; }

        internal TestServer Server { get; }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            await Hop.DisposeAsync();
        }
    }
}
