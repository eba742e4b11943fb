// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Auth;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Smtp;
using RelayCore.Spool;

namespace RelayCore.Hosting;

/// <summary>The SMTP storage daemon: listeners, sessions and a spool composed from one options object.</summary>
public sealed class RelayServer : IAsyncDisposable
{
    private const int DefaultPort = 25;
    private const int MinimumLineLength = 512;

    private readonly SmtpServerContext _context;
    private readonly List<SmtpListener> _listeners = new List<SmtpListener>();
    private readonly List<Task> _acceptLoops = new List<Task>();
    private readonly ConcurrentDictionary<SmtpSession, Task> _sessions = new ConcurrentDictionary<SmtpSession, Task>();
    private readonly TaskCompletionSource<bool> _completion = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    private ServerForwarding _forwarding;
    private int _stopRequested;

    private RelayServer(RelayServerOptions options, SmtpServerContext context)
    {
        Options = options;
        _context = context;
        SpoolPath = context.Spool.Path;
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

    /// <summary>The domain the server names itself by (the option, or the host name).</summary>
    public string Domain => _context.Domain;

    /// <summary>Completes when the server has stopped.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Reads the live counters.</summary>
    /// <returns>A snapshot of the counters.</returns>
    public RelayServerStatistics GetStatistics() => _context.Counters.Snapshot();

    /// <summary>
    /// Forwards every ready message now, or right after the forwarding pass already running (E-MailRelay's
    /// admin <c>forward</c> command); returns at once.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server was started without <see cref="RelayServerOptions.Forwarding"/>.</exception>
    public void TriggerForwarding()
    {
        if (_forwarding == null)
        {
            throw new InvalidOperationException("The server '" + Name + "' does not forward: it was started without Forwarding options.");
        }
        _forwarding.Trigger();
    }

    /// <summary>Validates the options, recovers the spool, binds every listener and starts accepting.</summary>
    /// <param name="options">The configuration.</param>
    /// <param name="cancellationToken">Cancels the start-up.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="ArgumentException">The options are inconsistent (for example TLS ports without a certificate).</exception>
    /// <exception cref="System.Net.Sockets.SocketException">A listener could not bind.</exception>
    public static async Task<RelayServer> StartAsync(RelayServerOptions options, CancellationToken cancellationToken)
    {
        Validate(options);
        cancellationToken.ThrowIfCancellationRequested();
        SecretsFile secrets = LoadSecrets(options.ServerSecretsPath);
        var chain = new X509Certificate2Collection();
        X509Certificate2 certificate = LoadCertificate(options, chain);
        SpoolDirectory spool;
        try
        {
            spool = SpoolDirectory.Open(options.SpoolPath, create: true);
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException || error is NotSupportedException)
        {
            throw new ArgumentException("The spool directory '" + options.SpoolPath + "' cannot be opened or created: " + error.Message, nameof(options), error);
        }
        (int returned, int removed) = spool.Recover();
        string domain = string.IsNullOrWhiteSpace(options.Domain) ? Dns.GetHostName() : options.Domain.Trim();
        var server = new RelayServer(options, new SmtpServerContext(options, spool, secrets, certificate, chain, domain));
        if (returned + removed > 0)
        {
            server._context.Log(RelayLogLevel.Information, "spool recovered: " + returned + " busy message(s) returned, " + removed + " incomplete receipt(s) removed");
        }
        if (options.Forwarding != null)
        {
            server.CreateForwarding(spool);
        }
        try
        {
            server.Bind();
        }
        catch
        {
            server.CloseListeners();
            if (server._forwarding != null)
            {
                await server._forwarding.DisposeAsync().ConfigureAwait(false);
            }
            throw;
        }
        server.StartTime = DateTimeOffset.Now;
        server.IsRunning = true;
        foreach (SmtpListener listener in server._listeners)
        {
            server._acceptLoops.Add(Task.Run(() => listener.RunAsync(server.OnAccepted, server.OnAcceptError)));
            server._context.Log(RelayLogLevel.Information, "listening on " + listener.EndPoint + (listener.IsImplicitTls ? " (implicit TLS)" : string.Empty));
        }
        server._forwarding?.Start();
        return server;
    }

    /// <summary>
    /// Stops accepting, lets sessions finish their current command for a short grace period, then
    /// closes them; acknowledged messages are already durable, unfinished receipts are discarded.
    /// </summary>
    /// <param name="cancellationToken">Cuts the grace period short.</param>
    /// <returns>A task that completes when every session and listener is closed.</returns>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopRequested, 1) != 0)
        {
            await Completion.ConfigureAwait(false);
            return;
        }
        IsRunning = false;
        _context.Log(RelayLogLevel.Information, "stopping");
        _context.BeginStopping();
        CloseListeners();
        await Task.WhenAll(_acceptLoops).ConfigureAwait(false);
        foreach (SmtpSession session in _sessions.Keys)
        {
            session.OnServerStopping();
        }
        _forwarding?.BeginStop();
        // A forwarding pass shares the grace period with the sessions; past it, its unsent claims return to ready.
        Task allSessions = Task.WhenAll(_sessions.Values.Concat(new[] { _forwarding?.IdleAsync() ?? Task.CompletedTask }));
        using (var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            grace.CancelAfter(Options.ShutdownGracePeriod);
            var graceOver = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            using (grace.Token.Register(() => graceOver.TrySetResult(true)))
            {
                await Task.WhenAny(allSessions, graceOver.Task).ConfigureAwait(false);
            }
        }
        if (_forwarding != null)
        {
            // First, so that sessions waiting on an immediate forward get their outcome and withdraw their copy.
            await _forwarding.DisposeAsync().ConfigureAwait(false);
        }
        foreach (SmtpSession session in _sessions.Keys)
        {
            session.Abort();
        }
        await Task.WhenAll(_sessions.Values).ConfigureAwait(false);
        _context.Certificate?.Dispose();
        foreach (X509Certificate2 intermediate in _context.Chain)
        {
            intermediate.Dispose();
        }
        _context.Log(RelayLogLevel.Information, "stopped");
        _completion.TrySetResult(true);
    }

    /// <summary>Stops the server.</summary>
    /// <returns>A task that completes when the server has stopped.</returns>
    public async ValueTask DisposeAsync() => await StopAsync(CancellationToken.None).ConfigureAwait(false);

    private static void Validate(RelayServerOptions options)
    {
        if (options == null)
        {
            throw new ArgumentNullException(nameof(options));
        }
        if (string.IsNullOrWhiteSpace(options.SpoolPath))
        {
            throw new ArgumentException("A spool path is required (SpoolPath).", nameof(options));
        }
        foreach (int port in options.Ports.Concat(options.ImplicitTlsPorts))
        {
            if (port < 0 || port > IPEndPoint.MaxPort)
            {
                throw new ArgumentException("The port " + port + " is out of range (0 to 65535).", nameof(options));
            }
        }
        bool hasCertificate = !string.IsNullOrWhiteSpace(options.CertificatePath);
        if (options.ImplicitTlsPorts.Count > 0 && !hasCertificate)
        {
            throw new ArgumentException("Implicit-TLS ports need a certificate (CertificatePath).", nameof(options));
        }
        if (options.RequireTls && !hasCertificate)
        {
            throw new ArgumentException("RequireTls needs a certificate (CertificatePath) so that clients can start TLS.", nameof(options));
        }
        if (!string.IsNullOrWhiteSpace(options.CertificateKeyPath) && !hasCertificate)
        {
            throw new ArgumentException("CertificateKeyPath is set but CertificatePath is not.", nameof(options));
        }
        if (options.RequireAuthentication && string.IsNullOrWhiteSpace(options.ServerSecretsPath))
        {
            throw new ArgumentException("RequireAuthentication needs a server secrets file (ServerSecretsPath) to authenticate against.", nameof(options));
        }
        if (options.MaxConnections < 1)
        {
            throw new ArgumentException("MaxConnections must be at least 1, not " + options.MaxConnections + ".", nameof(options));
        }
        if (options.MaxRecipients < 1)
        {
            throw new ArgumentException("MaxRecipients must be at least 1, not " + options.MaxRecipients + ".", nameof(options));
        }
        if (options.MaxLineLength < MinimumLineLength)
        {
            throw new ArgumentException("MaxLineLength must be at least " + MinimumLineLength + " (RFC 5321 section 4.5.3.1.4), not " + options.MaxLineLength + ".", nameof(options));
        }
        if (options.MaxBadCommands < 0)
        {
            throw new ArgumentException("MaxBadCommands cannot be negative.", nameof(options));
        }
        if (options.MaxMessageSize < 0)
        {
            throw new ArgumentException("MaxMessageSize cannot be negative (0 means no limit).", nameof(options));
        }
        if (options.IdleTimeout <= TimeSpan.Zero || options.IdleTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentException("IdleTimeout must be positive and under 24 days, not " + options.IdleTimeout + ".", nameof(options));
        }
        if (options.ShutdownGracePeriod < TimeSpan.Zero || options.ShutdownGracePeriod.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentException("ShutdownGracePeriod must be zero or positive and under 24 days.", nameof(options));
        }
        ValidateForwarding(options);
    }

    private static void ValidateForwarding(RelayServerOptions options)
    {
        if (options.PollInterval < TimeSpan.Zero || options.PollInterval.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentException("PollInterval must be zero (no polling) or positive and under 24 days, not " + options.PollInterval + ".", nameof(options));
        }
        if (options.Forwarding == null)
        {
            string trigger = options.ForwardOnStart ? nameof(options.ForwardOnStart)
                : options.ForwardOnDisconnect ? nameof(options.ForwardOnDisconnect)
                : options.ForwardImmediately ? nameof(options.ForwardImmediately)
                : options.PollInterval > TimeSpan.Zero ? nameof(options.PollInterval)
                : null;
            if (trigger != null)
            {
                throw new ArgumentException(trigger + " needs Forwarding options with the next hop to forward to.", nameof(options));
            }
            return;
        }
        if (options.Forwarding.NextHop == null)
        {
            throw new ArgumentException("Forwarding needs a next hop (Forwarding.NextHop).", nameof(options));
        }
    }

    private void CreateForwarding(SpoolDirectory spool)
    {
        ForwardingAgent agent;
        try
        {
            agent = new ForwardingAgent(Options.Forwarding);
        }
        catch (Exception error) when (error is ArgumentException || error is SecretsFormatException || error is IOException ||
            error is UnauthorizedAccessException || error is InvalidDataException)
        {
            // The agent reads the client secrets, CA and certificate files now: a server that could never forward does not start.
            throw new ArgumentException("The forwarding options are not valid: " + error.Message, "options", error);
        }
        _forwarding = new ServerForwarding(Options, spool, _context.Counters, _context.Log, agent,
            (messages, recover, onResult, cancellationToken) => messages == null
                ? agent.ForwardReadyAsync(spool, recover, onResult, cancellationToken)
                : agent.ForwardAsync(spool, messages, onResult, cancellationToken));
        if (Options.ForwardImmediately)
        {
            _context.ImmediateForwarding = _forwarding;
        }
    }

    private static SecretsFile LoadSecrets(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }
        try
        {
            return SecretsFile.Load(path);
        }
        catch (SecretsFormatException error)
        {
            throw new ArgumentException("The server secrets file is not valid: " + error.Message, "options", error);
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            throw new ArgumentException("The server secrets file '" + path + "' cannot be read: " + error.Message, "options", error);
        }
    }

    private static X509Certificate2 LoadCertificate(RelayServerOptions options, X509Certificate2Collection chain)
    {
        if (string.IsNullOrWhiteSpace(options.CertificatePath))
        {
            return null;
        }
        try
        {
            return ServerCertificate.Load(options.CertificatePath, options.CertificateKeyPath, options.CertificatePassword, chain);
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            throw new ArgumentException("The TLS certificate cannot be loaded: " + error.Message, "options", error);
        }
    }

    private void Bind()
    {
        IList<IPAddress> addresses = Options.ListenAddresses.Count > 0
            ? Options.ListenAddresses
            : new[] { IPAddress.Loopback, IPAddress.IPv6Loopback };
        bool isDefault = Options.ListenAddresses.Count == 0;
        IList<int> ports = Options.Ports.Count == 0 && Options.ImplicitTlsPorts.Count == 0 ? new[] { DefaultPort } : Options.Ports;
        Endpoints = BindAll(addresses, ports, isImplicitTls: false, isDefault);
        ImplicitTlsEndpoints = BindAll(addresses, Options.ImplicitTlsPorts, isImplicitTls: true, isDefault);
    }

    private List<IPEndPoint> BindAll(IList<IPAddress> addresses, IList<int> ports, bool isImplicitTls, bool isDefaultAddresses)
    {
        var bound = new List<IPEndPoint>();
        foreach (int port in ports)
        {
            // Port 0: the first address picks a free port and the others try to share it, so one number reaches them all.
            int chosen = port;
            foreach (IPAddress address in addresses)
            {
                if (isDefaultAddresses && address.AddressFamily == AddressFamily.InterNetworkV6 && !Socket.OSSupportsIPv6)
                {
                    continue;
                }
                SmtpListener listener;
                try
                {
                    listener = BindOne(new IPEndPoint(address, chosen), isImplicitTls, port == 0);
                }
                catch (SocketException error) when (isDefaultAddresses && address.AddressFamily == AddressFamily.InterNetworkV6 &&
                    (error.SocketErrorCode == SocketError.AddressNotAvailable || error.SocketErrorCode == SocketError.AddressFamilyNotSupported))
                {
                    _context.Log(RelayLogLevel.Information, "IPv6 loopback is not available; listening on IPv4 only");
                    continue;
                }
                _listeners.Add(listener);
                bound.Add(listener.EndPoint);
                chosen = listener.EndPoint.Port;
            }
        }
        return bound;
    }

    private static SmtpListener BindOne(IPEndPoint endPoint, bool isImplicitTls, bool mayRepick)
    {
        try
        {
            return SmtpListener.Bind(endPoint, isImplicitTls);
        }
        catch (SocketException error) when (mayRepick && endPoint.Port != 0 && error.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            return SmtpListener.Bind(new IPEndPoint(endPoint.Address, 0), isImplicitTls);
        }
    }

    private void CloseListeners()
    {
        foreach (SmtpListener listener in _listeners)
        {
            listener.Dispose();
        }
    }

    private void OnAccepted(Socket socket, SmtpListener listener)
    {
        IPAddress client = (socket.RemoteEndPoint as IPEndPoint)?.Address;
        if (!ClientAddressPolicy.IsAllowed(client, Options.AllowRemoteClients))
        {
            _context.Counters.ConnectionRefused();
            _context.Log(RelayLogLevel.Warning, "refused remote client " + client + " (remote clients are not allowed)");
            _ = RefuseAsync(socket, listener, "554 5.7.1 " + _context.Domain + " Remote clients are not allowed");
            return;
        }
        if (_context.IsStopping || !_context.Counters.TryOpenConnection(Options.MaxConnections))
        {
            _context.Counters.ConnectionRefused();
            _context.Log(RelayLogLevel.Warning, "refused " + client + ": " + (_context.IsStopping ? "shutting down" : "too many connections"));
            _ = RefuseAsync(socket, listener, _context.IsStopping
                ? "421 4.3.2 " + _context.Domain + " Service shutting down"
                : "421 4.7.0 " + _context.Domain + " Too many connections, try again later");
            return;
        }
        var session = new SmtpSession(_context, socket, listener.IsImplicitTls);
        var started = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task run = RunSessionAsync(session, started.Task);
        _sessions[session] = run;
        started.SetResult(true);
    }

    private async Task RunSessionAsync(SmtpSession session, Task registered)
    {
        // Runs after the session is in the table, so its removal can never come first.
        await registered.ConfigureAwait(false);
        try
        {
            await session.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _sessions.TryRemove(session, out _);
            _context.Counters.ConnectionClosed();
            if (session.StoredCount > 0)
            {
                _forwarding?.OnSubmitterDisconnected(session.StoredMessages, session.StoredMessages.Count == session.StoredCount);
            }
        }
    }

    private async Task RefuseAsync(Socket socket, SmtpListener listener, string reply)
    {
        using (socket)
        {
            if (listener.IsImplicitTls)
            {
                // No TLS session exists yet to carry a reply: closing is the answer.
                return;
            }
            try
            {
                byte[] bytes = Encoding.ASCII.GetBytes(reply + "\r\n");
                await socket.SendAsync(new ArraySegment<byte>(bytes), SocketFlags.None).ConfigureAwait(false);
                socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception error) when (error is SocketException || error is ObjectDisposedException)
            {
                _context.Log(RelayLogLevel.Debug, "could not send the refusal: " + error.Message);
            }
        }
    }

    private void OnAcceptError(Exception error) =>
        _context.Log(RelayLogLevel.Error, "accepting a connection failed: " + error.Message);
}
