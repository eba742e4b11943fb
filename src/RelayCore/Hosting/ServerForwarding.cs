// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Spool;

namespace RelayCore.Hosting;

/// <summary>
/// A server's forwarding: its agent, the single-flight pump, the triggers (start, a submitting client's
/// disconnect, the poll timer, a manual call) and immediate mode; logs and counts every outcome.
/// </summary>
internal sealed class ServerForwarding : IAsyncDisposable
{
    // After a pass that settled nothing, only deferred (a dead next hop), disconnects wait this long before the next pass:
    // each pass lists and reads the whole backlog, so passes back to back would only burn a CPU meanwhile.
    private static readonly TimeSpan s_retryDelay = TimeSpan.FromSeconds(5);

    // Passes after disconnects forward what the sessions committed; at least this often one of them lists the spool
    // instead, for ready messages this server did not receive (another process's, a resubmitted one).
    private static readonly TimeSpan s_listingInterval = TimeSpan.FromSeconds(30);

    private readonly RelayServerOptions _options;
    private readonly SpoolDirectory _spool;
    private readonly ServerCounters _counters;
    private readonly Action<RelayLogLevel, string> _log;
    private readonly IAsyncDisposable _agent;
    private readonly ForwardingPump _pump;
    private readonly CancellationTokenSource _stop = new CancellationTokenSource();
    private Task _poll = Task.CompletedTask;
    private int _isStopping;
    private int _isDisposed;
    private int _passSettled;
    private int _passDeferred;
    private long _retryAtTicks;
    private int _isRetryScheduled;

    /// <param name="options">The server's options; <see cref="RelayServerOptions.Forwarding"/> is set.</param>
    /// <param name="spool">The spool the server stores into.</param>
    /// <param name="counters">Where outcomes are counted.</param>
    /// <param name="log">The server's log.</param>
    /// <param name="agent">The forwarding agent, disposed with this.</param>
    /// <param name="forward">The agent's forwarding call over <paramref name="spool"/>.</param>
    internal ServerForwarding(RelayServerOptions options, SpoolDirectory spool, ServerCounters counters, Action<RelayLogLevel, string> log,
        IAsyncDisposable agent, ForwardingPump.Forward forward)
    {
        _options = options;
        _spool = spool;
        _counters = counters;
        _log = log;
        _agent = agent;
        _pump = new ForwardingPump(forward, s_listingInterval, OnResult, OnPassError);
        _pump.PassCompleted += OnPassCompleted;
    }

    private bool IsStopping => Volatile.Read(ref _isStopping) != 0;

    /// <summary>Fires the start trigger and starts the poll timer, as the options say.</summary>
    internal void Start()
    {
        if (_options.ForwardOnStart)
        {
            _log(RelayLogLevel.Information, "forwarding the spool at start to " + _options.Forwarding.NextHop);
            // RelayServer.StartAsync recovered the spool a moment ago: a second scan would find nothing.
            _pump.RequestPass(recover: false);
        }
        if (_options.PollInterval > TimeSpan.Zero)
        {
            _poll = Task.Run(PollAsync);
        }
    }

    /// <summary>A pass over every ready message now (or right after the running one).</summary>
    internal void Trigger() => _pump.RequestPass(recover: true);

    /// <summary>
    /// A client that stored at least one message has gone: the proxy trigger. Its messages are handed to the
    /// next pass. After a pass that got nothing through, the pass waits until the retry delay is over (one pass
    /// for all the disconnects meanwhile).
    /// </summary>
    /// <param name="stored">The messages the session committed, oldest first.</param>
    /// <param name="isComplete">False when the session committed more than it remembered: the pass lists the spool.</param>
    internal void OnSubmitterDisconnected(IReadOnlyCollection<RelayMessage> stored, bool isComplete)
    {
        if (!_options.ForwardOnDisconnect)
        {
            return;
        }
        _pump.Enqueue(stored);
        TimeSpan wait = new DateTime(Interlocked.Read(ref _retryAtTicks), DateTimeKind.Utc) - DateTime.UtcNow;
        if (wait <= TimeSpan.Zero)
        {
            // With immediate mode the sessions keep no messages: what is left ready is for a listing to find, as in E-MailRelay.
            if (isComplete && !_options.ForwardImmediately)
            {
                _pump.RequestQueuedPass();
            }
            else
            {
                _pump.RequestPass(recover: false);
            }
        }
        else if (Interlocked.Exchange(ref _isRetryScheduled, 1) == 0)
        {
            _ = RequestPassLaterAsync(wait);
        }
    }

    /// <summary>Before an immediate-mode commit: see <see cref="ForwardingPump.Expect"/>.</summary>
    internal Task<ForwardResult> Expect(string id) => _pump.Expect(id);

    /// <summary>After a failed commit: see <see cref="ForwardingPump.Forget"/>.</summary>
    internal void Forget(string id) => _pump.Forget(id);

    /// <summary>
    /// Forwards a just-committed message before the client is answered, and removes the spooled copy when
    /// the client is to be refused.
    /// </summary>
    /// <remarks>
    /// E-MailRelay (GSmtp::ProtocolMessageForward) answers its client with the forwarding error but leaves
    /// the stored message behind, <c>.bad</c> after a refusal and ready after a connection failure, so a
    /// later run or emailrelay-resubmit sends again a message its client was told was not accepted: a
    /// duplicate of the client's retry or bounce. Here a refusal means the client keeps responsibility
    /// (RFC 5321 section 6.1 hands it over only with the 250), so the copy is removed. When it cannot be
    /// (another forwarder holds it), the spool keeps it and the client is told 250 instead.
    /// </remarks>
    /// <param name="message">The committed message.</param>
    /// <param name="expected">What <see cref="Expect"/> returned for it.</param>
    internal async Task<ImmediateOutcome> ForwardNowAsync(RelayMessage message, Task<ForwardResult> expected)
    {
        // A client waits at least 10 minutes for the reply to DATA (RFC 5321 section 4.5.3.2.6); the
        // server's own command timeout (5 minutes by default) bounds the wait well inside that.
        ForwardResult result = await _pump.ForwardNowAsync(message, expected, _options.IdleTimeout).ConfigureAwait(false);
        if (result == null)
        {
            // No verdict in time: the spool keeps the message and the client is told so with a 250. Unless the
            // server is stopping: then the client's connection closes before any 250, so it will send again.
            return new ImmediateOutcome(null, IsStopping && Withdraw(message.Id, ForwardOutcome.Deferred, "the server is stopping"));
        }
        if (result.Outcome == ForwardOutcome.Sent)
        {
            return new ImmediateOutcome(result, isWithdrawn: false);
        }
        return new ImmediateOutcome(result, Withdraw(result.Id, result.Outcome, result.ReplyText));
    }

    /// <summary>No new passes or immediate forwards; the running one goes on until <see cref="CancelAsync"/>.</summary>
    internal void BeginStop()
    {
        Interlocked.Exchange(ref _isStopping, 1);
        _pump.BeginStop();
        _stop.Cancel();
    }

    /// <summary>Completes when the running pass and the poll timer are done.</summary>
    internal Task IdleAsync() => Task.WhenAll(_pump.IdleAsync(), _poll);

    /// <summary>Cancels the running pass: its unsent claims return to ready.</summary>
    internal async Task CancelAsync()
    {
        BeginStop();
        await _pump.CancelAsync().ConfigureAwait(false);
        await _poll.ConfigureAwait(false);
    }

    /// <summary>Cancels forwarding and closes the agent's connections.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _isDisposed, 1) != 0)
        {
            return;
        }
        await CancelAsync().ConfigureAwait(false);
        await _agent.DisposeAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task PollAsync()
    {
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(_options.PollInterval, _stop.Token).ConfigureAwait(false);
                _pump.RequestPass(recover: true);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task RequestPassLaterAsync(TimeSpan wait)
    {
        try
        {
            await Task.Delay(wait, _stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: no more passes.
            return;
        }
        Interlocked.Exchange(ref _isRetryScheduled, 0);
        _pump.RequestPass(recover: false);
    }

    private void OnPassCompleted()
    {
        // Results and pass ends come from the pump's one worker, never at once.
        bool isFruitless = _passSettled == 0 && _passDeferred > 0;
        _passSettled = _passDeferred = 0;
        Interlocked.Exchange(ref _retryAtTicks, isFruitless ? (DateTime.UtcNow + s_retryDelay).Ticks : 0);
        if (isFruitless)
        {
            _log(RelayLogLevel.Warning, "forwarding got nothing through to " + _options.Forwarding.NextHop + "; the next pass on a disconnect waits " + s_retryDelay.TotalSeconds + " s");
        }
        // Counted last: whoever sees the pass counted sees its retry time too.
        _counters.ForwardingRunCompleted();
    }

    /// <summary>Removes the spooled copy of a message its client is being refused; false when the spool keeps it.</summary>
    private bool Withdraw(string id, ForwardOutcome outcome, string reason)
    {
        RelayMessage left;
        try
        {
            left = _spool.Get(id);
        }
        catch (RelayMessageNotFoundException)
        {
            // Gone: a bad copy was removed by hand; a ready one was taken and sent by another forwarder.
            return outcome == ForwardOutcome.Failed;
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            _log(RelayLogLevel.Error, "cannot read " + id + " to withdraw it: " + error.Message);
            return outcome == ForwardOutcome.Failed;
        }
        if (left.State != RelayMessageState.Ready && left.State != RelayMessageState.Bad)
        {
            return false;
        }
        try
        {
            _spool.Remove(left);
        }
        catch (RelayMessageBusyException)
        {
            return false;
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            _log(RelayLogLevel.Error, "cannot remove the spooled copy of " + id + ": " + error.Message);
            return outcome == ForwardOutcome.Failed;
        }
        _log(RelayLogLevel.Warning, "removed " + id + " from the spool: its client is refused (" + reason + ") and keeps responsibility for it");
        return true;
    }

    private void OnResult(ForwardResult result)
    {
        _counters.Forwarded(result);
        if (result.Outcome == ForwardOutcome.Deferred)
        {
            _passDeferred++;
        }
        else
        {
            _passSettled++;
        }
        bool isSent = result.Outcome == ForwardOutcome.Sent;
        RelayLogLevel level = isSent ? RelayLogLevel.Information : RelayLogLevel.Warning;
        if (_options.Log == null || level < _options.LogLevel)
        {
            return;
        }
        string reply = (result.ReplyCode?.ToString(CultureInfo.InvariantCulture) + " " + result.ReplyText).Trim();
        string what = isSent ? "forwarded" : result.Outcome == ForwardOutcome.Failed ? "forwarding failed (marked bad)" : "forwarding deferred (left ready)";
        _log(level, what + ": " + result.Id + " to " + result.NextHop + ": " + reply +
            " (" + result.Bytes.ToString(CultureInfo.InvariantCulture) + " bytes, " + result.Elapsed.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms)");
    }

    private void OnPassError(Exception error) =>
        _log(RelayLogLevel.Error, "forwarding to " + _options.Forwarding.NextHop + " failed: " + error.GetType().Name + ": " + error.Message);
}
