// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Net;
using RelayCore.Spool;

namespace RelayCore.Forwarding;

/// <summary>
/// Forwards spooled messages to their next hop, as E-MailRelay's <c>--as-client</c> does: each message is
/// claimed by rename, sent with its spooled bytes unchanged, and then deleted (sent), marked bad (5xx) or
/// returned to ready (4xx, connection failure).
/// </summary>
/// <remarks>
/// Messages are grouped by route (the envelope's ForwardToAddress or <see cref="ForwardingOptions.NextHop"/>,
/// and its ClientAccountSelector); one connection carries many messages of a route, and up to
/// <see cref="ForwardingOptions.MaxConnections"/> connections work in parallel. A connection failure defers
/// the rest of that route's messages for the run rather than retrying a dead next hop once per message.
/// Connections left open after a run serve the next run until <see cref="ForwardingOptions.IdleTimeout"/>.
/// One agent may run several <see cref="ForwardAsync"/> calls at once; claims keep them from sharing a message.
/// </remarks>
public sealed class ForwardingAgent : IAsyncDisposable
{
    private readonly ForwardingOptions _options;
    private readonly Func<NextHopAddress, string, CancellationToken, Task<RelaySmtpClient>> _connect;
    private readonly IdleConnectionPool _idle;
    private int _disposed;

    /// <summary>Creates an agent; no connection is made until the first <see cref="ForwardAsync"/>.</summary>
    /// <param name="options">How to forward; read now and at each run, so change it only between runs.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The options name no next hop, an impossible limit, or contradict each other.</exception>
    /// <exception cref="RelayCore.Auth.SecretsFormatException">The client secrets file has a bad line.</exception>
    /// <exception cref="System.IO.IOException">A file the options name (secrets, CA, client certificate) cannot be read.</exception>
    public ForwardingAgent(ForwardingOptions options)
        : this(options, Validate(options) ? new NextHopConnector(options).ConnectAsync : null)
    {
    }

    internal ForwardingAgent(ForwardingOptions options, Func<NextHopAddress, string, CancellationToken, Task<RelaySmtpClient>> connect)
    {
        Validate(options);
        _options = options;
        _connect = connect ?? throw new ArgumentNullException(nameof(connect));
        _idle = new IdleConnectionPool(options.IdleTimeout, options.ResponseTimeout);
    }

    /// <summary>The options this agent forwards with.</summary>
    public ForwardingOptions Options => _options;

    /// <summary>Forwards messages of a spool: every ready message (oldest first), or the ones given.</summary>
    /// <param name="spool">The spool the messages are in.</param>
    /// <param name="messages">The messages to forward, read in the Ready state; null for every ready message, after returning abandoned claims to ready (<see cref="SpoolDirectory.Recover()"/>).</param>
    /// <param name="onResult">Called once per message as it settles (never concurrently); may be null. Messages another process holds are skipped without a result.</param>
    /// <param name="cancellationToken">Stops the run; messages in flight return to ready, never left busy or deleted unsent.</param>
    /// <returns>The run's totals.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="spool"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The agent was disposed.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public Task<ForwardingSummary> ForwardAsync(SpoolDirectory spool, IEnumerable<RelayMessage> messages, Action<ForwardResult> onResult, CancellationToken cancellationToken) =>
        RunAsync(spool, messages, recover: messages == null, onResult, cancellationToken);

    /// <summary>Forwards every ready message of a spool, oldest first, recovering the spool first only when asked.</summary>
    /// <remarks>
    /// Without recovery a pass costs one directory listing: for frequent passes (a server's, after each submitting
    /// client) over a spool that this process recovered at its start and whose claims its own forwarder settles.
    /// </remarks>
    /// <param name="spool">The spool.</param>
    /// <param name="recover">Whether to return abandoned claims to ready and remove incomplete receipts first (<see cref="SpoolDirectory.Recover()"/>).</param>
    /// <param name="onResult">Called once per message as it settles (never concurrently); may be null. Messages another process holds are skipped without a result.</param>
    /// <param name="cancellationToken">Stops the run; messages in flight return to ready, never left busy or deleted unsent.</param>
    /// <returns>The run's totals.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="spool"/> is null.</exception>
    /// <exception cref="ObjectDisposedException">The agent was disposed.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public Task<ForwardingSummary> ForwardReadyAsync(SpoolDirectory spool, bool recover, Action<ForwardResult> onResult, CancellationToken cancellationToken) =>
        RunAsync(spool, null, recover, onResult, cancellationToken);

    private async Task<ForwardingSummary> RunAsync(SpoolDirectory spool, IEnumerable<RelayMessage> messages, bool recover, Action<ForwardResult> onResult, CancellationToken cancellationToken)
    {
        if (spool == null)
        {
            throw new ArgumentNullException(nameof(spool));
        }
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new ObjectDisposedException(nameof(ForwardingAgent));
        }
        cancellationToken.ThrowIfCancellationRequested();
        var run = new ForwardingRun(_options, _connect, _idle, spool, onResult, cancellationToken);
        await run.RunAsync(messages, recover, _options.MaxConnections).ConfigureAwait(false);
        return run.Summary;
    }

    /// <summary>Ends every idle connection with QUIT.</summary>
    /// <returns>A task that completes when the connections are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _idle.CloseAllAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Checks what the agent itself needs (the connector checks the rest); true, for use in a constructor chain.</summary>
    private static bool Validate(ForwardingOptions options)
    {
        if (options == null)
        {
            throw new ArgumentNullException(nameof(options));
        }
        if (options.NextHop == null)
        {
            throw new ArgumentException("A next hop (host:port) is required.", nameof(options));
        }
        if (options.MaxConnections < 1)
        {
            throw new ArgumentException("MaxConnections must be at least 1.", nameof(options));
        }
        if (options.ConnectTimeout <= TimeSpan.Zero || options.ResponseTimeout <= TimeSpan.Zero || options.IdleTimeout < TimeSpan.Zero)
        {
            throw new ArgumentException("The connect and response timeouts must be positive and the idle timeout not negative.", nameof(options));
        }
        return true;
    }
}
