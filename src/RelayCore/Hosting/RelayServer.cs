// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.Hosting;

/// <summary>The SMTP storage daemon: listeners, sessions and a spool composed from one options object.</summary>
public sealed class RelayServer : IAsyncDisposable
{
    private RelayServer(RelayServerOptions options)
    {
        Options = options;
    }

    /// <summary>The options the server started with.</summary>
    public RelayServerOptions Options { get; }

    /// <summary>The server's name.</summary>
    public string Name => Options.Name;

    /// <summary>The spool directory's full path.</summary>
    public string SpoolPath { get; private set; }

    /// <summary>The endpoints listened on, with the ports actually bound.</summary>
    public IReadOnlyList<IPEndPoint> Endpoints { get; private set; } = Array.Empty<IPEndPoint>();

    /// <summary>The endpoints of implicit-TLS (SMTPS) listeners, with the ports actually bound.</summary>
    public IReadOnlyList<IPEndPoint> ImplicitTlsEndpoints { get; private set; } = Array.Empty<IPEndPoint>();

    /// <summary>When the server started.</summary>
    public DateTimeOffset StartTime { get; private set; }

    /// <summary>Whether the server is accepting connections.</summary>
    public bool IsRunning { get; private set; }

    /// <summary>Completes when the server has stopped.</summary>
    public Task Completion => throw new NotImplementedException();

    /// <summary>Reads the live counters.</summary>
    /// <returns>A snapshot of the counters.</returns>
    public RelayServerStatistics GetStatistics() => throw new NotImplementedException();

    /// <summary>Validates the options, recovers the spool, binds every listener and starts accepting.</summary>
    /// <param name="options">The configuration.</param>
    /// <param name="cancellationToken">Cancels the start-up.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="ArgumentException">The options are inconsistent (for example TLS ports without a certificate).</exception>
    /// <exception cref="System.Net.Sockets.SocketException">A listener could not bind.</exception>
    public static Task<RelayServer> StartAsync(RelayServerOptions options, CancellationToken cancellationToken) => throw new NotImplementedException();

    /// <summary>
    /// Stops accepting, lets sessions finish their current command for a short grace period, then
    /// closes them; acknowledged messages are already durable, unfinished receipts are discarded.
    /// </summary>
    /// <param name="cancellationToken">Cuts the grace period short.</param>
    /// <returns>A task that completes when every session and listener is closed.</returns>
    public Task StopAsync(CancellationToken cancellationToken) => throw new NotImplementedException();

    /// <summary>Stops the server.</summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);
}
