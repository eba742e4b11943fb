// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.Spool;
using Xunit;

namespace RelayCore.Tests.Hosting;

/// <summary>The single-flight worker behind the server's triggers, driven through a scripted forwarder.</summary>
public sealed class ForwardingPumpTests
{
    private static readonly TimeSpan s_deadline = TestServer.Deadline;

    [Fact]
    public async Task RequestPass_ManyDuringARun_RunExactlyOnceMoreAndNeverOverlap()
    {
        var forwarder = new ScriptedForwarder();
        var pump = forwarder.CreatePump();
        forwarder.HoldNextCall();
        pump.RequestPass(recover: true);
        await forwarder.WaitForCallsAsync(1);

        for (int i = 0; i < 10; i++)
        {
            pump.RequestPass(recover: true);
        }
        forwarder.Release();
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Equal(2, forwarder.Calls.Count);
        Assert.All(forwarder.Calls, call => Assert.Null(call));
        Assert.Equal(1, forwarder.MaxConcurrent);
    }

    [Fact]
    public async Task RequestPass_WithoutRecovery_AsksTheAgentToListTheSpoolWithoutRecovering()
    {
        var forwarder = new ScriptedForwarder();
        forwarder.ReadyIds.AddRange(new[] { "emailrelay.3.3.1", "emailrelay.3.3.2" });
        var pump = forwarder.CreatePump();

        pump.RequestPass(recover: false);
        await forwarder.WaitForCallsAsync(1);
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Null(Assert.Single(forwarder.Calls));
        Assert.False(Assert.Single(forwarder.Recovering));
        Assert.Equal(forwarder.ReadyIds, forwarder.Reported.Select(r => r.Id));
    }

    [Fact]
    public async Task RequestPass_RecoveringAndListingDuringARun_OneMorePassThatRecovers()
    {
        var forwarder = new ScriptedForwarder();
        var pump = forwarder.CreatePump();
        forwarder.HoldNextCall();
        pump.RequestPass(recover: false);
        await forwarder.WaitForCallsAsync(1);

        pump.RequestPass(recover: false);
        pump.RequestPass(recover: true);
        pump.RequestPass(recover: false);
        forwarder.Release();
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Equal(new[] { false, true }, forwarder.Recovering);
        Assert.All(forwarder.Calls, call => Assert.Null(call));
    }

    [Fact]
    public async Task RequestQueuedPass_FirstPass_ListsTheSpoolInstead()
    {
        var forwarder = new ScriptedForwarder();
        var pump = forwarder.CreatePump();

        pump.Enqueue(new[] { Message("emailrelay.4.4.1") });
        pump.RequestQueuedPass();
        await forwarder.WaitForCallsAsync(1);
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Null(Assert.Single(forwarder.Calls));
        Assert.False(Assert.Single(forwarder.Recovering));
    }

    [Fact]
    public async Task RequestQueuedPass_AfterAListing_ForwardsTheQueuedMessagesWithoutListing()
    {
        var forwarder = new ScriptedForwarder();
        var pump = await forwarder.CreateListedPumpAsync();
        RelayMessage[] committed = { Message("emailrelay.4.4.2"), Message("emailrelay.4.4.3") };

        pump.Enqueue(committed);
        pump.RequestQueuedPass();
        await forwarder.WaitForCallsAsync(2);
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Equal(committed.Select(m => m.Id), forwarder.Calls[1]);
    }

    [Fact]
    public async Task Enqueue_WhileAPassRuns_TheMessageGoesInTheNextPass()
    {
        var forwarder = new ScriptedForwarder();
        var pump = await forwarder.CreateListedPumpAsync();
        forwarder.HoldNextCall();
        pump.Enqueue(new[] { Message("emailrelay.5.5.1") });
        pump.RequestQueuedPass();
        await forwarder.WaitForCallsAsync(2);

        pump.Enqueue(new[] { Message("emailrelay.5.5.2") });
        pump.RequestQueuedPass();
        forwarder.Release();
        await forwarder.WaitForCallsAsync(3);
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Equal(new[] { "emailrelay.5.5.1" }, forwarder.Calls[1]);
        Assert.Equal(new[] { "emailrelay.5.5.2" }, forwarder.Calls[2]);
        Assert.Equal(new[] { "emailrelay.5.5.1", "emailrelay.5.5.2" }, forwarder.Reported.Select(r => r.Id));
    }

    [Fact]
    public async Task RequestQueuedPass_AfterAPassDeferredAMessage_ListsTheSpool()
    {
        var forwarder = new ScriptedForwarder();
        var pump = await forwarder.CreateListedPumpAsync();
        forwarder.Outcome = ForwardOutcome.Deferred;
        pump.Enqueue(new[] { Message("emailrelay.6.6.1") });
        pump.RequestQueuedPass();
        await forwarder.WaitForCallsAsync(2);
        await pump.IdleAsync().WaitAsync(s_deadline);
        forwarder.Outcome = ForwardOutcome.Sent;

        pump.Enqueue(new[] { Message("emailrelay.6.6.2") });
        pump.RequestQueuedPass();
        await forwarder.WaitForCallsAsync(3);
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Equal(new[] { "emailrelay.6.6.1" }, forwarder.Calls[1]);
        Assert.Null(forwarder.Calls[2]);
    }

    [Fact]
    public async Task RequestQueuedPass_AfterAPassThrew_ListsTheSpool()
    {
        var forwarder = new ScriptedForwarder { ThrowOnCall = 2 };
        var errors = new ConcurrentQueue<Exception>();
        var pump = await forwarder.CreateListedPumpAsync(errors.Enqueue);
        pump.Enqueue(new[] { Message("emailrelay.6.6.3") });
        pump.RequestQueuedPass();
        await forwarder.WaitForCallsAsync(2);
        await pump.IdleAsync().WaitAsync(s_deadline);

        pump.Enqueue(new[] { Message("emailrelay.6.6.4") });
        pump.RequestQueuedPass();
        await forwarder.WaitForCallsAsync(3);
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Single(errors);
        Assert.Null(forwarder.Calls[2]);
    }

    [Fact]
    public async Task Enqueue_MoreThanTheQueueHolds_NextPassListsTheSpool()
    {
        var forwarder = new ScriptedForwarder();
        var pump = await forwarder.CreateListedPumpAsync();

        pump.Enqueue(Enumerable.Range(1, ForwardingPump.MaxQueued + 1).Select(i => Message("emailrelay.7.7." + i)));
        pump.RequestQueuedPass();
        await forwarder.WaitForCallsAsync(2);
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Null(forwarder.Calls[1]);
    }

    [Fact]
    public async Task RequestQueuedPass_ListingIntervalOver_ListsTheSpool()
    {
        var forwarder = new ScriptedForwarder();
        var pump = await forwarder.CreateListedPumpAsync(listingInterval: TimeSpan.Zero);

        pump.Enqueue(new[] { Message("emailrelay.8.8.1") });
        pump.RequestQueuedPass();
        await forwarder.WaitForCallsAsync(2);
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Null(forwarder.Calls[1]);
    }

    [Fact]
    public async Task RequestQueuedPass_QueueTakenByAListing_NoCallAndNoPassReported()
    {
        var forwarder = new ScriptedForwarder();
        var pump = await forwarder.CreateListedPumpAsync();
        int completed = 0;
        pump.PassCompleted += () => Interlocked.Increment(ref completed);
        forwarder.HoldNextCall();
        pump.RequestPass(recover: false);
        await forwarder.WaitForCallsAsync(2);

        pump.Enqueue(new[] { Message("emailrelay.9.9.1") });
        pump.RequestPass(recover: false);
        pump.RequestQueuedPass();
        forwarder.Release();
        await forwarder.WaitForCallsAsync(3);
        await pump.IdleAsync().WaitAsync(s_deadline);
        pump.RequestQueuedPass();
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Equal(3, forwarder.Calls.Count);
        Assert.Null(forwarder.Calls[2]);
        Assert.Equal(2, completed);
    }

    [Fact]
    public async Task RequestPass_WhenIdle_RunsOnePassAndReportsIt()
    {
        var forwarder = new ScriptedForwarder();
        var pump = forwarder.CreatePump();
        int completed = 0;
        pump.PassCompleted += () => Interlocked.Increment(ref completed);

        pump.RequestPass(recover: true);
        await forwarder.WaitForCallsAsync(1);
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Single(forwarder.Calls);
        Assert.Equal(1, completed);
    }

    [Fact]
    public async Task ForwardNowAsync_MessageForwarded_ReturnsItsResult()
    {
        var forwarder = new ScriptedForwarder { Outcome = ForwardOutcome.Failed };
        var pump = forwarder.CreatePump();
        RelayMessage message = Message("emailrelay.1.1.1");

        ForwardResult result = await pump.ForwardNowAsync(message, pump.Expect(message.Id), s_deadline);

        Assert.Equal(ForwardOutcome.Failed, result.Outcome);
        Assert.Equal(new[] { message.Id }, Assert.Single(forwarder.Calls));
        Assert.Equal(new[] { message.Id }, forwarder.Reported.Select(r => r.Id));
    }

    [Fact]
    public async Task ForwardNowAsync_SettledByAPassBeforeAsked_ReturnsThePassResultWithoutAnotherCall()
    {
        var forwarder = new ScriptedForwarder();
        var pump = forwarder.CreatePump();
        RelayMessage message = Message("emailrelay.1.1.2");
        forwarder.ReadyIds.Add(message.Id);
        Task<ForwardResult> expected = pump.Expect(message.Id);
        pump.RequestPass(recover: true);
        await pump.IdleAsync().WaitAsync(s_deadline);

        ForwardResult result = await pump.ForwardNowAsync(message, expected, s_deadline);

        Assert.Equal(ForwardOutcome.Sent, result.Outcome);
        Assert.Null(Assert.Single(forwarder.Calls));
    }

    [Fact]
    public async Task ForwardNowAsync_MessagesOfManySessions_ShareBatchesAndEachGetsItsOwnResult()
    {
        var forwarder = new ScriptedForwarder();
        var pump = forwarder.CreatePump();
        forwarder.HoldNextCall();
        pump.RequestPass(recover: true);
        await forwarder.WaitForCallsAsync(1);
        RelayMessage[] messages = Enumerable.Range(1, 20).Select(i => Message("emailrelay.2.2." + i)).ToArray();

        Task<ForwardResult>[] waits = messages.Select(m => pump.ForwardNowAsync(m, pump.Expect(m.Id), s_deadline)).ToArray();
        forwarder.Release();
        ForwardResult[] results = await Task.WhenAll(waits).WaitAsync(s_deadline);

        Assert.Equal(messages.Select(m => m.Id), results.Select(r => r.Id));
        Assert.Equal(2, forwarder.Calls.Count);
        Assert.Equal(messages.Select(m => m.Id), forwarder.Calls.Last());
    }

    [Fact]
    public async Task ForwardNowAsync_NoResultBeforeTheWaitEnds_ReturnsNullAndLaterResultIsOnlyReported()
    {
        var forwarder = new ScriptedForwarder();
        var pump = forwarder.CreatePump();
        forwarder.HoldNextCall();
        RelayMessage message = Message("emailrelay.1.1.3");

        ForwardResult result = await pump.ForwardNowAsync(message, pump.Expect(message.Id), TimeSpan.FromMilliseconds(50));
        forwarder.Release();
        await forwarder.WaitForCallsAsync(1);
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.Null(result);
        Assert.Equal(new[] { message.Id }, forwarder.Reported.Select(r => r.Id));
    }

    [Fact]
    public async Task CancelAsync_DuringAPass_CancelsItAndAnswersWaitersWithNull()
    {
        var forwarder = new ScriptedForwarder { HonoursCancellation = true };
        var pump = forwarder.CreatePump();
        forwarder.HoldNextCall();
        RelayMessage message = Message("emailrelay.1.1.4");
        Task<ForwardResult> wait = pump.ForwardNowAsync(message, pump.Expect(message.Id), s_deadline);
        await forwarder.WaitForCallsAsync(1);

        await pump.CancelAsync().WaitAsync(s_deadline);

        Assert.Null(await wait.WaitAsync(s_deadline));
        Assert.True(forwarder.SawCancellation);
        pump.RequestPass(recover: true);
        Assert.Single(forwarder.Calls);
    }

    [Fact]
    public async Task RequestPass_APassThrows_ErrorIsReportedAndTheNextPassStillRuns()
    {
        var forwarder = new ScriptedForwarder { ThrowOnCall = 1 };
        var errors = new ConcurrentQueue<Exception>();
        var pump = forwarder.CreatePump(errors.Enqueue);

        pump.RequestPass(recover: true);
        await forwarder.WaitForCallsAsync(1);
        await pump.IdleAsync().WaitAsync(s_deadline);
        pump.RequestPass(recover: true);
        await forwarder.WaitForCallsAsync(2);
        await pump.IdleAsync().WaitAsync(s_deadline);

        Assert.IsType<InvalidOperationException>(Assert.Single(errors));
        Assert.Equal(2, forwarder.Calls.Count);
    }

    private static RelayMessage Message(string id) =>
        new RelayMessage("/nonexistent", id, RelayMessageState.Ready, new Envelope(), 10, DateTimeOffset.Now);

    /// <summary>
    /// Stands in for the agent: records each call's message ids (null for a whole-spool pass), reports one
    /// result per message (for a pass, per id in <see cref="ReadyIds"/>), and can hold a call until released.
    /// </summary>
    private sealed class ScriptedForwarder
    {
        private readonly object _lock = new object();
        private TaskCompletionSource<bool> _hold;
        private TaskCompletionSource<bool> _held;
        private int _concurrent;

        internal List<string[]> Calls { get; } = new List<string[]>();

        internal List<bool> Recovering { get; } = new List<bool>();

        internal ConcurrentQueue<ForwardResult> Reported { get; } = new ConcurrentQueue<ForwardResult>();

        internal List<string> ReadyIds { get; } = new List<string>();

        internal ForwardOutcome Outcome { get; set; } = ForwardOutcome.Sent;

        internal bool HonoursCancellation { get; set; }

        internal int ThrowOnCall { get; set; }

        internal int MaxConcurrent { get; private set; }

        internal bool SawCancellation { get; private set; }

        internal ForwardingPump CreatePump(Action<Exception> onError = null, TimeSpan? listingInterval = null) =>
            new ForwardingPump(ForwardAsync, listingInterval ?? TimeSpan.FromHours(1), Reported.Enqueue,
                onError ?? (error => throw new Xunit.Sdk.XunitException("unexpected: " + error)));

        /// <summary>A pump past its first listing pass (an empty spool), so queued passes stay queued.</summary>
        internal async Task<ForwardingPump> CreateListedPumpAsync(Action<Exception> onError = null, TimeSpan? listingInterval = null)
        {
            ForwardingPump pump = CreatePump(onError, listingInterval);
            pump.RequestPass(recover: false);
            await WaitForCallsAsync(1);
            await pump.IdleAsync().WaitAsync(s_deadline);
            return pump;
        }

        internal void HoldNextCall() => _hold = _held = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        internal void Release() => _held.TrySetResult(true);

        internal async Task WaitForCallsAsync(int count) =>
            await TestServer.WaitUntilAsync(() => { lock (_lock) { return Calls.Count >= count; } }, count + " forwarding call(s)");

        private async Task<ForwardingSummary> ForwardAsync(IEnumerable<RelayMessage> messages, bool recover, Action<ForwardResult> onResult, CancellationToken cancellationToken)
        {
            string[] ids = messages?.Select(m => m.Id).ToArray();
            int call;
            lock (_lock)
            {
                Calls.Add(ids);
                Recovering.Add(recover);
                call = Calls.Count;
                MaxConcurrent = Math.Max(MaxConcurrent, ++_concurrent);
            }
            try
            {
                TaskCompletionSource<bool> hold = _hold;
                _hold = null;
                if (hold != null)
                {
                    using (cancellationToken.Register(() => hold.TrySetCanceled()))
                    {
                        try
                        {
                            await hold.Task;
                        }
                        catch (OperationCanceledException) when (HonoursCancellation)
                        {
                            SawCancellation = true;
                            throw;
                        }
                    }
                }
                if (call == ThrowOnCall)
                {
                    throw new InvalidOperationException("scripted failure");
                }
                foreach (string id in ids ?? ReadyIds.ToArray())
                {
                    onResult(new ForwardResult(id, Outcome, "127.0.0.1:25", 250, "ok", null, null, 10, TimeSpan.Zero));
                }
                return new ForwardingSummary((ids ?? ReadyIds.ToArray()).Length, 0, 0, 0, 1, TimeSpan.Zero);
            }
            finally
            {
                lock (_lock)
                {
                    _concurrent--;
                }
            }
        }
    }
}
