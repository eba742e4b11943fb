// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Net.Smtp;
using RelayCore.Hosting;
using RelayCore.Net;
using RelayCore.Spool;

namespace RelayCore.Forwarding;

/// <summary>
/// One call of <see cref="ForwardingAgent.ForwardAsync"/>: the messages grouped by route in one queue,
/// and the workers (one connection each) that pull from it.
/// </summary>
internal sealed class ForwardingRun
{
    private static readonly RelayMessageState[] s_readyOnly = { RelayMessageState.Ready };

    private readonly ForwardingOptions _options;
    private readonly Func<NextHopAddress, string, CancellationToken, Task<RelaySmtpClient>> _connect;
    private readonly IdleConnectionPool _idle;
    private readonly SpoolDirectory _spool;
    private readonly Action<ForwardResult> _onResult;
    private readonly CancellationToken _cancellationToken;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly DeferredSettlement _settlement = new DeferredSettlement();

    // The queue: routes in the order first listed, each with its pending messages; guarded by _queueLock.
    private readonly object _queueLock = new object();
    private readonly List<ForwardRoute> _routes = new List<ForwardRoute>();
    private readonly List<(ForwardRoute Route, RelayMessage Message)> _lateDeferrals = new List<(ForwardRoute, RelayMessage)>();
    private TaskCompletionSource<bool> _arrival;
    private bool _listed;
    private int _nextRoute;

    // The totals, and the results' order: guarded by _resultLock.
    private readonly object _resultLock = new object();
    private int _sent;
    private int _failed;
    private int _deferred;
    private long _bytes;
    private int _connections;

    internal ForwardingRun(
        ForwardingOptions options,
        Func<NextHopAddress, string, CancellationToken, Task<RelaySmtpClient>> connect,
        IdleConnectionPool idle,
        SpoolDirectory spool,
        Action<ForwardResult> onResult,
        CancellationToken cancellationToken)
    {
        _options = options;
        _connect = connect;
        _idle = idle;
        _spool = spool;
        _onResult = onResult;
        _cancellationToken = cancellationToken;
    }

    internal ForwardingSummary Summary => new ForwardingSummary(_sent, _failed, _deferred, _bytes, _connections, _clock.Elapsed);

    /// <summary>
    /// Runs the producer (listing the messages into their routes' queues) and the workers at once, so
    /// sending starts with the first message listed rather than after the whole spool was read.
    /// </summary>
    /// <param name="messages">The messages; null to take every ready message of the spool.</param>
    /// <param name="recover">With no messages given: whether to recover the spool (<see cref="SpoolDirectory.Recover()"/>) before listing it.</param>
    /// <param name="workers">Parallel connections.</param>
    internal async Task RunAsync(IEnumerable<RelayMessage> messages, bool recover, int workers)
    {
        Task producer = Task.Run(() => Produce(messages, recover), CancellationToken.None);
        IEnumerable<Task> consumers = Enumerable.Range(0, workers).Select(_ => Task.Run(WorkAsync, CancellationToken.None));
        Exception settlementError;
        try
        {
            await Task.WhenAll(consumers.Concat(new[] { producer })).ConfigureAwait(false);
        }
        finally
        {
            // Cancelled or not, the run ends with every sent message's files gone and its result reported.
            settlementError = await _settlement.DrainAsync().ConfigureAwait(false);
        }
        if (settlementError != null)
        {
            ExceptionDispatchInfo.Capture(settlementError).Throw();
        }
    }

    /// <summary>Groups the messages by route, in their order; a message whose ForwardToAddress cannot be parsed fails at once.</summary>
    private void Produce(IEnumerable<RelayMessage> messages, bool recover)
    {
        try
        {
            if (messages == null)
            {
                if (recover)
                {
                    _spool.Recover();
                }
                messages = _spool.Find(null, s_readyOnly);
            }
            var byKey = new Dictionary<string, ForwardRoute>(StringComparer.Ordinal);
            foreach (RelayMessage message in messages)
            {
                _cancellationToken.ThrowIfCancellationRequested();
                if (message == null || message.State != RelayMessageState.Ready)
                {
                    Log(RelayLogLevel.Information, "skipped " + message + ": not ready (" + message?.State + ")");
                    continue;
                }
                NextHopAddress hop = _options.NextHop;
                if (message.ForwardToAddress.Length > 0 && !NextHopAddress.TryParse(message.ForwardToAddress, out hop))
                {
                    FailUnroutable(message);
                    continue;
                }
                string key = ForwardRoute.KeyOf(hop, message.ClientAccountSelector);
                lock (_queueLock)
                {
                    if (!byKey.TryGetValue(key, out ForwardRoute route))
                    {
                        route = new ForwardRoute(hop, message.ClientAccountSelector);
                        byKey.Add(key, route);
                        _routes.Add(route);
                    }
                    if (route.DeferReason == null)
                    {
                        route.Pending.Enqueue(message);
                        Signal();
                    }
                    else
                    {
                        // Listed after its route failed: it waits for the next run like the others.
                        _lateDeferrals.Add((route, message));
                    }
                }
                ReportLateDeferrals();
            }
        }
        finally
        {
            lock (_queueLock)
            {
                _listed = true;
                Signal();
            }
        }
    }

    /// <summary>One connection's worth of work: takes messages until the queue is empty and all were listed.</summary>
    private async Task WorkAsync()
    {
        ForwardRoute connectedRoute = null;
        RelaySmtpClient client = null;
        try
        {
            while (true)
            {
                (bool taken, ForwardRoute route, RelayMessage message, Task arrival) = TryTake(connectedRoute);
                if (!taken)
                {
                    if (arrival == null)
                    {
                        break;
                    }
                    await arrival.ConfigureAwait(false);
                    continue;
                }
                _cancellationToken.ThrowIfCancellationRequested();
                if (client != null && route != connectedRoute)
                {
                    _idle.Park(connectedRoute.Key, client);
                    client = null;
                }
                connectedRoute = route;
                if (client == null)
                {
                    client = await OpenAsync(route, message).ConfigureAwait(false);
                    if (client == null)
                    {
                        continue;
                    }
                }
                if (!await SendAsync(route, client, message).ConfigureAwait(false))
                {
                    await _idle.QuitAsync(client).ConfigureAwait(false);
                    client = null;
                }
            }
        }
        finally
        {
            if (client != null)
            {
                if (_cancellationToken.IsCancellationRequested)
                {
                    // The session may be mid-transaction: never reuse it.
                    client.Dispose();
                }
                else
                {
                    _idle.Park(connectedRoute.Key, client);
                }
            }
        }
    }

    /// <summary>
    /// The next message, staying on the connected route while it has mail, otherwise taking routes in
    /// turn; when none is queued: the task that completes at the next arrival, or null once all were listed.
    /// </summary>
    private (bool Taken, ForwardRoute Route, RelayMessage Message, Task Arrival) TryTake(ForwardRoute preferred)
    {
        lock (_queueLock)
        {
            if (preferred != null && preferred.DeferReason == null && preferred.Pending.Count > 0)
            {
                return (true, preferred, preferred.Pending.Dequeue(), null);
            }
            for (int i = 0; i < _routes.Count; i++)
            {
                ForwardRoute route = _routes[(_nextRoute + i) % _routes.Count];
                if (route.DeferReason == null && route.Pending.Count > 0)
                {
                    _nextRoute = (_nextRoute + i + 1) % _routes.Count;
                    return (true, route, route.Pending.Dequeue(), null);
                }
            }
            if (_listed)
            {
                return (false, null, null, null);
            }
            _arrival ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            return (false, null, null, _arrival.Task);
        }
    }

    /// <summary>Wakes the workers waiting for mail; called under the queue lock.</summary>
    private void Signal()
    {
        if (_arrival != null)
        {
            _arrival.TrySetResult(true);
            _arrival = null;
        }
    }

    private void ReportLateDeferrals()
    {
        List<(ForwardRoute Route, RelayMessage Message)> late;
        lock (_queueLock)
        {
            if (_lateDeferrals.Count == 0)
            {
                return;
            }
            late = _lateDeferrals.ToList();
            _lateDeferrals.Clear();
        }
        foreach ((ForwardRoute route, RelayMessage message) in late)
        {
            Report(message, ForwardOutcome.Deferred, route, null, route.DeferReason, null, TimeSpan.Zero);
        }
    }

    /// <summary>An idle connection of the route that still answers, or a new one; null when the route failed (its messages are deferred).</summary>
    private async Task<RelaySmtpClient> OpenAsync(ForwardRoute route, RelayMessage first)
    {
        RelaySmtpClient client;
        while ((client = _idle.TryTake(route.Key)) != null)
        {
            try
            {
                // A parked session may have been closed by the next hop's own idle timeout.
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_cancellationToken);
                deadline.CancelAfter(_options.ResponseTimeout);
                await client.NoOpAsync(deadline.Token).ConfigureAwait(false);
                Log(RelayLogLevel.Debug, "reusing a connection to " + route);
                return client;
            }
            catch (Exception error) when (!_cancellationToken.IsCancellationRequested && !(error is OutOfMemoryException))
            {
                client.Dispose();
            }
        }
        try
        {
            client = await _connect(route.Hop, route.AccountSelector, _cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _connections);
            Log(RelayLogLevel.Information, "connected to " + route);
            return client;
        }
        catch (Exception error) when (!_cancellationToken.IsCancellationRequested && !(error is OutOfMemoryException))
        {
            // A refusal at connect time (greeting, EHLO, AUTH) keeps the mail too: E-MailRelay fails
            // messages only on a refusal of the messages themselves.
            // The connector's own errors already say which step failed and where; others get the hop named.
            string reason = error is ForwardingConnectionException ? error.Message : "cannot connect to " + route.Hop + ": " + error.Message;
            DeferRoute(route, first, reason, TimeSpan.Zero, (error as ForwardingConnectionException)?.ReplyCode);
            return null;
        }
    }

    /// <summary>Claims and sends one message; false when the connection can no longer be used.</summary>
    private async Task<bool> SendAsync(ForwardRoute route, RelaySmtpClient client, RelayMessage message)
    {
        ClaimedMessage claim;
        try
        {
            claim = _spool.TryClaim(message);
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            // Held open elsewhere (Windows), or a broken envelope that could not even be marked bad.
            Log(RelayLogLevel.Warning, "skipped " + message.Id + ": " + error.Message);
            return true;
        }
        if (claim == null)
        {
            Log(RelayLogLevel.Information, "skipped " + message.Id + ": claimed, removed or changed by another process");
            return true;
        }
        using (claim)
        {
            var timer = Stopwatch.StartNew();
            TransferReport report;
            try
            {
                report = await client.TransferAsync(claim.Message, _options.EnvelopeFrom, _options.ForwardToSome, _cancellationToken).ConfigureAwait(false);
            }
            catch (Exception error) when (_cancellationToken.IsCancellationRequested && error is OperationCanceledException)
            {
                claim.Release();
                Report(claim.Message, ForwardOutcome.Deferred, route, null, "cancelled", null, timer.Elapsed);
                throw;
            }
            catch (Exception error) when (IsConnectionFailure(error))
            {
                claim.Release();
                DeferRoute(route, claim.Message, "connection to " + route.Hop + " failed: " + error.Message, timer.Elapsed);
                return false;
            }
            catch (ServiceNotAuthenticatedException error)
            {
                // 530 to MAIL FROM: every message of this route would get it, so the route waits.
                claim.Release();
                DeferRoute(route, claim.Message, "the next hop " + route.Hop + " requires authentication: " + error.Message, timer.Elapsed, (int)SmtpStatusCode.AuthenticationRequired);
                return false;
            }
            catch (Exception error) when (!(error is OutOfMemoryException) && !(error is OperationCanceledException))
            {
                // Whatever MailKit throws beyond its documented failures, the message stays for the next run.
                claim.Release();
                Log(RelayLogLevel.Error, claim.Message.Id + ": unexpected " + error.GetType().Name + " while sending: " + error);
                Report(claim.Message, ForwardOutcome.Deferred, route, null, "unexpected error: " + error.Message, null, timer.Elapsed);
                return false;
            }
            await SettleAsync(route, claim, report, timer.Elapsed).ConfigureAwait(false);
            if (!report.IsSent && !client.IsConnected && !client.IsAbandoned)
            {
                // A refusal that closed the session (421): the next hop is going away for now.
                DeferRoute(route, null, "the next hop " + route.Hop + " closed the connection: " + report.ReplyText);
                return false;
            }
            return client.IsConnected;
        }
    }

    private async Task SettleAsync(ForwardRoute route, ClaimedMessage claim, TransferReport report, TimeSpan elapsed)
    {
        RelayMessage message = claim.Message;
        ForwardOutcome outcome = report.IsSent ? ForwardOutcome.Sent : report.IsPermanent ? ForwardOutcome.Failed : ForwardOutcome.Deferred;
        Action deletes = null;
        if (report.IsSent && report.Rejected.Count == 0)
        {
            // The common case: the envelope goes now, the rest waits on the disk (see DeferredSettlement) while
            // this connection sends the next message.
            RecordSettlement(message, outcome, () => deletes = claim.CompleteLater());
        }
        else
        {
            RecordSettlement(message, outcome, () =>
            {
                if (report.IsSent)
                {
                    RecipientRejection first = report.Rejected[0];
                    claim.CompleteForSome(report.RejectedAddresses, "recipient refused: " + first.Text, first.Code);
                }
                else if (outcome == ForwardOutcome.Failed)
                {
                    claim.MarkBad(report.ReplyText, report.ReplyCode);
                }
                else
                {
                    claim.Release();
                }
            });
        }
        // Through the settlement's queue either way, so a connection's results come in the order it sent them.
        await _settlement.EnqueueAsync(
            deletes == null ? null : () => RecordSettlement(message, outcome, deletes),
            () => Report(message, outcome, route, report.ReplyCode, report.ReplyText, report, elapsed)).ConfigureAwait(false);
    }

    /// <summary>Updates the spool for a settled message; a failure is logged, since the next hop's answer stands.</summary>
    private void RecordSettlement(RelayMessage message, ForwardOutcome outcome, Action update)
    {
        try
        {
            update();
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            Log(RelayLogLevel.Error, message.Id + ": " + outcome + " but the spool could not be updated: " + error.Message);
        }
    }

    /// <summary>Defers a route for the rest of the run: the given message (not claimed, or released) and every one still queued.</summary>
    private void DeferRoute(ForwardRoute route, RelayMessage message, string reason, TimeSpan elapsed = default, int? replyCode = null)
    {
        List<RelayMessage> rest;
        lock (_queueLock)
        {
            route.Defer(reason);
            rest = route.Pending.ToList();
            route.Pending.Clear();
        }
        Log(RelayLogLevel.Warning, reason + (rest.Count > 0 ? "; " + rest.Count + " more message(s) wait for the next run" : string.Empty));
        if (message != null)
        {
            Report(message, ForwardOutcome.Deferred, route, replyCode, route.DeferReason, null, elapsed);
        }
        foreach (RelayMessage waiting in rest)
        {
            Report(waiting, ForwardOutcome.Deferred, route, replyCode, route.DeferReason, null, TimeSpan.Zero);
        }
    }

    private void FailUnroutable(RelayMessage message)
    {
        string reason = "invalid ForwardToAddress '" + message.ForwardToAddress + "'";
        try
        {
            using ClaimedMessage claim = _spool.TryClaim(message);
            if (claim == null)
            {
                return;
            }
            claim.MarkBad(reason, null);
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            Log(RelayLogLevel.Warning, "skipped " + message.Id + " (" + reason + "): " + error.Message);
            return;
        }
        Report(message, ForwardOutcome.Failed, null, null, reason, null, TimeSpan.Zero);
    }

    private void Report(RelayMessage message, ForwardOutcome outcome, ForwardRoute route, int? code, string text, TransferReport report, TimeSpan elapsed)
    {
        long bytes = outcome == ForwardOutcome.Sent ? message.Size : 0;
        var result = new ForwardResult(
            message.Id,
            outcome,
            route?.Hop.ToString() ?? message.ForwardToAddress,
            code,
            text,
            report?.Accepted,
            report?.RejectedAddresses,
            bytes,
            elapsed);
        lock (_resultLock)
        {
            switch (outcome)
            {
                case ForwardOutcome.Sent: _sent++; _bytes += bytes; break;
                case ForwardOutcome.Failed: _failed++; break;
                default: _deferred++; break;
            }
            RelayLogLevel level = outcome == ForwardOutcome.Sent ? RelayLogLevel.Information : RelayLogLevel.Warning;
            if (IsLogged(level))
            {
                Log(level, "forwarded " + result);
            }
            _onResult?.Invoke(result);
        }
    }

    private static bool IsConnectionFailure(Exception error) =>
        error is IOException ||
        error is SocketException ||
        error is SmtpProtocolException ||
        error is ServiceNotConnectedException ||
        error is TimeoutException ||
        error is OperationCanceledException;

    private bool IsLogged(RelayLogLevel level) => _options.Log != null && level >= _options.LogLevel;

    private void Log(RelayLogLevel level, string text)
    {
        if (IsLogged(level))
        {
            _options.Log(level, text);
        }
    }
}
