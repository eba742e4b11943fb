// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using MailKit.Net.Proxy;
using MailKit.Net.Smtp;
using MailKit.Security;
using RelayCore.Hosting;
using RelayCore.Net;
using RelayCore.OAuth;

namespace RelayCore.Forwarding;

/// <summary>
/// Opens forwarding sessions: POP-before-SMTP and its delay, the TCP connection (own socket, TCP_NODELAY,
/// bind address, timeout) or the SOCKS path, greeting, EHLO, TLS, and AUTH with the client account.
/// </summary>
/// <remarks>
/// The configuration is checked and its files (secrets, CA file, client certificate) read once, in the
/// constructor, so a bad configuration fails before any message is claimed. Rules an administrator can
/// rely on: an account that is configured is used or the session fails (never silently unauthenticated);
/// a secret that travels readable (PLAIN, LOGIN, XOAUTH2) goes only over TLS, unless TLS was explicitly
/// turned off (<see cref="ClientTlsMode.None"/>), which is logged at Warning; CRAM-MD5 never reveals the
/// password and may go over a plain connection.
/// </remarks>
internal sealed class NextHopConnector
{
    private readonly ForwardingOptions _options;
    private readonly ClientAccounts _accounts;
    private readonly CertificatePolicy _certificates;
    private readonly PopBeforeSmtp _pop;

    /// <summary>Checks the options and reads the files they name.</summary>
    /// <exception cref="ArgumentException">The options are incomplete or contradict each other.</exception>
    /// <exception cref="RelayCore.Auth.SecretsFormatException">The secrets file has a bad line.</exception>
    /// <exception cref="IOException">A file cannot be read, or holds no certificate.</exception>
    internal NextHopConnector(ForwardingOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        CheckTimeout(options.ConnectTimeout, nameof(options.ConnectTimeout));
        CheckTimeout(options.ResponseTimeout, nameof(options.ResponseTimeout));
        if (!Enum.IsDefined(typeof(ClientTlsMode), options.Tls))
        {
            throw new ArgumentException("Unknown TLS mode " + options.Tls + ".", nameof(options));
        }
        _accounts = new ClientAccounts(options);
        _certificates = new CertificatePolicy(options);
        if (options.PopBeforeSmtp != null)
        {
            _pop = new PopBeforeSmtp(options.PopBeforeSmtp, _accounts.Default, options, this, _certificates);
        }
        if (options.SkipCertificateValidation)
        {
            Log(RelayLogLevel.Warning, "forwarding: certificate verification of next hops is turned off (SkipCertificateValidation): a man in the middle would not be noticed");
        }
    }

    /// <summary>The options this connector was made from.</summary>
    internal ForwardingOptions Options => _options;

    /// <summary>Opens a session with a next hop, ready for MAIL FROM.</summary>
    /// <param name="hop">The next hop.</param>
    /// <param name="accountSelector">The envelope's ClientAccountSelector; null or empty for the default account.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The connected (and, with an account, authenticated) client; the caller disposes it.</returns>
    /// <exception cref="ForwardingConnectionException">A step failed; it says which, and the reply if any.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    internal Task<RelaySmtpClient> ConnectAsync(NextHopAddress hop, string accountSelector, CancellationToken cancellationToken) =>
        ConnectAsync(hop, accountSelector, null, cancellationToken);

    /// <summary>Opens a session like <see cref="ConnectAsync(NextHopAddress, string, CancellationToken)"/>, noting each step in <paramref name="trace"/>.</summary>
    internal async Task<RelaySmtpClient> ConnectAsync(NextHopAddress hop, string accountSelector, ConnectionTrace trace, CancellationToken cancellationToken)
    {
        if (hop == null)
        {
            throw new ArgumentNullException(nameof(hop));
        }
        string hopText = hop.ToString();
        if (!_accounts.TryResolve(accountSelector, out ClientAccount account))
        {
            throw new ForwardingConnectionException(_accounts.DescribeMissing(accountSelector), ConnectionStep.Auth, hopText, null, null, false, null);
        }
        if (_pop != null)
        {
            await _pop.RunAsync(hopText, trace, cancellationToken).ConfigureAwait(false);
        }

        RelaySmtpClient client = CreateClient(hop, trace);
        try
        {
            await OpenAsync(client, hop, trace, cancellationToken).ConfigureAwait(false);
            if (account != null)
            {
                client = await AuthenticateAsync(client, account, trace, cancellationToken).ConfigureAwait(false);
            }
            client.Transcript.IsRecording = false;
            Log(RelayLogLevel.Information, "forward " + hopText + ": session open" + (client.IsSecure ? ", " + client.TlsProtocol + " " + client.TlsCipher : ", no TLS") +
                (client.AuthenticatedAs != null ? ", authenticated as " + client.AuthenticatedAs + " with " + client.AuthenticationMechanism : string.Empty));
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Makes a client for one session with its own transcript, certificate callback and client certificate.</summary>
    private RelaySmtpClient CreateClient(NextHopAddress hop, ConnectionTrace trace)
    {
        var transcript = new ProtocolTranscript(_options.Log, _options.LogLevel, "forward " + hop + ": ");
        if (trace != null)
        {
            trace.Transcript = transcript;
        }
        var client = new RelaySmtpClient(hop, transcript)
        {
            Timeout = (int)Math.Min(int.MaxValue, _options.ResponseTimeout.TotalMilliseconds),
            LocalDomain = string.IsNullOrEmpty(_options.HeloDomain) ? Dns.GetHostName() : _options.HeloDomain,
        };
        client.ServerCertificateValidationCallback = _certificates.CreateCallback(TlsName(hop), info =>
        {
            client.ServerCertificate = info;
            if (trace != null)
            {
                trace.Certificate = info;
            }
        });
        if (_certificates.ClientCertificate != null)
        {
            client.ClientCertificates = new X509CertificateCollection { _certificates.ClientCertificate };
        }
        return client;
    }

    private async Task OpenAsync(RelaySmtpClient client, NextHopAddress hop, ConnectionTrace trace, CancellationToken cancellationToken)
    {
        string hopText = hop.ToString();
        string tlsName = TlsName(hop);
        Socket socket = null;
        Stream proxied = null;
        var clock = Stopwatch.StartNew();
        if (hop.UsesSocks)
        {
            proxied = await ConnectThroughSocksAsync(hop, trace, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            socket = await ConnectSocketAsync(hop.Host, hop.Port, hopText, ConnectionStep.Connect, cancellationToken).ConfigureAwait(false);
            if (trace != null)
            {
                trace.ConnectElapsed = clock.Elapsed;
                trace.ConnectedAt = client.Transcript.Elapsed;
                trace.ConnectDetail = "from " + socket.LocalEndPoint + " to " + socket.RemoteEndPoint;
            }
        }
        Log(RelayLogLevel.Debug, "forward " + hopText + ": connected in " + clock.ElapsedMilliseconds + " ms");
        // The connection and its TLS are Relay's and MailKit talks over them, so the pipelined transaction reaches the plaintext in every mode.
        Stream connection = proxied ?? new NetworkStream(socket, ownsSocket: true);
        try
        {
            Stream plain = connection;
            if (_options.Tls == ClientTlsMode.Implicit)
            {
                plain = await NegotiateTlsAsync(client, connection, tlsName, cancellationToken).ConfigureAwait(false);
            }
            var stream = new NextHopStream(plain, connection, _options.ResponseTimeout);
            await client.ConnectAsync(stream, tlsName, hop.Port, SecureSocketOptions.None, cancellationToken).ConfigureAwait(false);
            if ((_options.Tls == ClientTlsMode.StartTls || _options.Tls == ClientTlsMode.StartTlsWhenOffered) && (client.Capabilities & SmtpCapabilities.StartTLS) != 0)
            {
                plain = await StartTlsAsync(client, stream, connection, hop, tlsName, cancellationToken).ConfigureAwait(false);
            }
            else if (_options.Tls == ClientTlsMode.StartTls)
            {
                throw new NotSupportedException("The next hop does not offer STARTTLS.");
            }
            client.UsePlainConnection(plain, connection);
        }
        catch (Exception error)
        {
            // Whatever went wrong (cancellation too), the connection is closed here; MailKit may hold the stream, which the caller disposes.
            connection.Dispose();
            if (IsSessionFailure(error, cancellationToken))
            {
                throw SessionFailure(client, hopText, error);
            }
            throw;
        }
        if (_options.Tls == ClientTlsMode.None || (_options.Tls == ClientTlsMode.StartTlsWhenOffered && !client.IsSecure))
        {
            Log(_options.Tls == ClientTlsMode.None ? RelayLogLevel.Debug : RelayLogLevel.Information,
                "forward " + hopText + ": no TLS (" + (_options.Tls == ClientTlsMode.None ? "turned off" : "STARTTLS not offered") + ")");
        }
    }

    /// <summary>
    /// STARTTLS (RFC 3207) on MailKit's session, TLS on Relay's connection, then MailKit connected again
    /// over TLS (its greeting replayed) so that it sends EHLO and learns what is offered under TLS.
    /// </summary>
    /// <returns>The TLS stream.</returns>
    private async Task<Stream> StartTlsAsync(RelaySmtpClient client, NextHopStream stream, Stream connection, NextHopAddress hop, string tlsName, CancellationToken cancellationToken)
    {
        SmtpResponse reply = await client.StartTlsAsync(cancellationToken).ConfigureAwait(false);
        if (reply.StatusCode != SmtpStatusCode.ServiceReady)
        {
            throw new SmtpCommandException(SmtpErrorCode.UnexpectedStatusCode, reply.StatusCode, reply.Response);
        }
        SslStream tls = await NegotiateTlsAsync(client, connection, tlsName, cancellationToken).ConfigureAwait(false);
        client.Transcript.SkipServerBytes(stream.SwitchTo(tls));
        stream.IsKeptOpen = true;
        try
        {
            await client.DisconnectAsync(false, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            stream.IsKeptOpen = false;
        }
        await client.ConnectAsync(stream, tlsName, hop.Port, SecureSocketOptions.None, cancellationToken).ConfigureAwait(false);
        return tls;
    }

    /// <summary>The TLS handshake as the client, with the session's certificate check and client certificate, within the response timeout.</summary>
    /// <exception cref="SslHandshakeException">The handshake failed (the certificate check included).</exception>
    /// <exception cref="TimeoutException">The next hop did not finish the handshake in time.</exception>
    private async Task<SslStream> NegotiateTlsAsync(RelaySmtpClient client, Stream connection, string tlsName, CancellationToken cancellationToken)
    {
        var tls = new SslStream(connection, leaveInnerStreamOpen: true, client.ServerCertificateValidationCallback);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ResponseTimeout);
        // Closing the connection is the one way to abandon a handshake on every target framework.
        using (deadline.Token.Register(state => ((IDisposable)state).Dispose(), connection))
        {
            try
            {
                await tls.AuthenticateAsClientAsync(tlsName, client.ClientCertificates, client.SslProtocols, client.CheckCertificateRevocation).ConfigureAwait(false);
            }
            catch (Exception error) when (error is System.Security.Authentication.AuthenticationException || error is IOException || error is ObjectDisposedException)
            {
                tls.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
                if (deadline.IsCancellationRequested)
                {
                    throw new TimeoutException("The TLS handshake did not finish within " + _options.ResponseTimeout.TotalSeconds + " s.", error);
                }
                throw new SslHandshakeException("The TLS handshake failed: " + error.Message, error);
            }
        }
        client.UseTls(tls);
        return tls;
    }

    /// <summary>The name sent as SNI and checked against the certificate.</summary>
    private string TlsName(NextHopAddress hop) => string.IsNullOrEmpty(_options.TlsServerName) ? hop.Host : _options.TlsServerName;

    private async Task<Stream> ConnectThroughSocksAsync(NextHopAddress hop, ConnectionTrace trace, CancellationToken cancellationToken)
    {
        string hopText = hop.ToString();
        ProxyClient proxy = _options.SocksProtocol == SocksProtocol.Socks5
            ? new Socks5Client(hop.SocksHost, hop.SocksPort)
            : new Socks4aClient(hop.SocksHost, hop.SocksPort);
        if (_options.LocalAddress != null)
        {
            proxy.LocalEndPoint = new IPEndPoint(_options.LocalAddress, 0);
        }
        var clock = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ConnectTimeout);
        try
        {
            Stream stream = await proxy.ConnectAsync(hop.Host, hop.Port, (int)Math.Min(int.MaxValue, _options.ConnectTimeout.TotalMilliseconds), deadline.Token).ConfigureAwait(false);
#if NET
            if (stream is NetworkStream network)
            {
                network.Socket.NoDelay = true;
            }
#endif
            if (trace != null)
            {
                trace.SocksElapsed = clock.Elapsed;
                trace.ConnectedAt = trace.Transcript.Elapsed;
                trace.ConnectDetail = "through " + (_options.SocksProtocol == SocksProtocol.Socks5 ? "SOCKS 5" : "SOCKS 4a") + " proxy " + hop.SocksHost + ":" + hop.SocksPort;
            }
            return stream;
        }
        catch (ProxyProtocolException error)
        {
            throw new ForwardingConnectionException(
                "The SOCKS proxy " + hop.SocksHost + ":" + hop.SocksPort + " did not connect to " + hop.Host + ":" + hop.Port + ": " + error.Message,
                ConnectionStep.Socks, hopText, null, null, true, error);
        }
        catch (Exception error) when (error is TimeoutException || (error is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // MailKit times the TCP connection and the SOCKS handshake as one, so a timeout is the proxy path's.
            throw new ForwardingConnectionException(
                "No connection through the SOCKS proxy " + hop.SocksHost + ":" + hop.SocksPort + " within " + _options.ConnectTimeout.TotalSeconds + " s (connect timeout).",
                ConnectionStep.Socks, hopText, null, null, true, error);
        }
        catch (Exception error) when (error is SocketException || error is IOException)
        {
            throw new ForwardingConnectionException(
                "Cannot connect to the SOCKS proxy " + hop.SocksHost + ":" + hop.SocksPort + ": " + error.Message,
                ConnectionStep.Connect, hopText, null, null, true, error);
        }
    }

    /// <summary>Connects a TCP socket with TCP_NODELAY, from the bind address if one is set, within the connect timeout.</summary>
    internal async Task<Socket> ConnectSocketAsync(string host, int port, string hopText, ConnectionStep step, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ConnectTimeout);
        IPAddress[] addresses = await ResolveAsync(host, hopText, step, deadline.Token, cancellationToken).ConfigureAwait(false);
        Exception last = null;
        foreach (IPAddress address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                if (_options.LocalAddress != null)
                {
                    socket.Bind(new IPEndPoint(_options.LocalAddress, 0));
                }
                // Disposing the socket is the one way to abandon a connect on every target framework.
                using (deadline.Token.Register(() => socket.Dispose()))
                {
                    await socket.ConnectAsync(new IPEndPoint(address, port)).ConfigureAwait(false);
                }
                deadline.Token.ThrowIfCancellationRequested();
                return socket;
            }
            catch (Exception error) when (error is SocketException || error is ObjectDisposedException || error is OperationCanceledException)
            {
                socket.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
                if (deadline.IsCancellationRequested)
                {
                    throw new ForwardingConnectionException(
                        "No connection to " + host + ":" + port + " within " + _options.ConnectTimeout.TotalSeconds + " s (connect timeout).",
                        step, hopText, null, null, true, error);
                }
                last = error;
            }
        }
        throw new ForwardingConnectionException(
            "Cannot connect to " + host + ":" + port + (_options.LocalAddress != null ? " from " + _options.LocalAddress : string.Empty) + ": " + last?.Message,
            step, hopText, null, null, true, last);
    }

    private async Task<IPAddress[]> ResolveAsync(string host, string hopText, ConnectionStep step, CancellationToken deadline, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out IPAddress literal))
        {
            return new[] { literal };
        }
        Task<IPAddress[]> lookup = Dns.GetHostAddressesAsync(host);
        Task expired = Task.Delay(Timeout.Infinite, deadline);
        if (await Task.WhenAny(lookup, expired).ConfigureAwait(false) == expired)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new ForwardingConnectionException("The name " + host + " did not resolve within the connect timeout.", step, hopText, null, null, true, null);
        }
        try
        {
            IPAddress[] addresses = await lookup.ConfigureAwait(false);
            AddressFamily? family = _options.LocalAddress?.AddressFamily;
            IPAddress[] usable = addresses.Where(a => family == null || a.AddressFamily == family).ToArray();
            if (usable.Length == 0)
            {
                throw new ForwardingConnectionException("The name " + host + " has no address" + (family != null ? " of the bind address's family" : string.Empty) + ".", step, hopText, null, null, true, null);
            }
            return usable;
        }
        catch (SocketException error)
        {
            throw new ForwardingConnectionException("The name " + host + " does not resolve: " + error.Message, step, hopText, null, null, true, error);
        }
    }

    /// <summary>Logs in with the account; returns the client, or a new one when the next hop closed the first after refusing an OAuth2 token.</summary>
    private async Task<RelaySmtpClient> AuthenticateAsync(RelaySmtpClient client, ClientAccount account, ConnectionTrace trace, CancellationToken cancellationToken)
    {
        string hopText = client.NextHop.ToString();
        if ((client.Capabilities & SmtpCapabilities.Authentication) == 0)
        {
            throw new ForwardingConnectionException(
                "The next hop " + hopText + " offers no AUTH, but an account (" + account.UserName + ", from " + account.Source + ") is configured: refusing to send unauthenticated.",
                ConnectionStep.Auth, hopText, null, null, false, null);
        }
        string mechanism = ChooseMechanism(client, account, hopText);
        if (account.TokenProvider == null)
        {
            await LogInAsync(client, account.CreateMechanism(mechanism), mechanism, account.UserName, trace, cancellationToken).ConfigureAwait(false);
            return client;
        }
        if (trace != null)
        {
            trace.TokenProvider = account.TokenProvider;
        }
        AccessToken token = await GetTokenAsync(account, hopText, trace, cancellationToken).ConfigureAwait(false);
        ForwardingConnectionException refusal;
        try
        {
            await LogInAsync(client, account.CreateMechanism(mechanism, token), mechanism, token.UserName, trace, cancellationToken).ConfigureAwait(false);
            return client;
        }
        catch (ForwardingConnectionException refused) when (refused.InnerException is AuthenticationException && refused.ReplyCode == 535)
        {
            // An expired or revoked token: drop it and try once more with a new one (issue 5's one retry).
            account.TokenProvider.Invalidate(token);
            string error = XOAuth2ErrorReply.FindLast(client.Transcript.Lines);
            if (trace != null)
            {
                trace.TokenAttempts[trace.TokenAttempts.Count - 1].Refusal = (refused.ReplyCode, refused.ReplyText, error);
            }
            Log(RelayLogLevel.Information, "forward " + hopText + ": the next hop refused the OAuth2 token of " + token.UserName + " (" + refused.ReplyCode +
                (error != null ? ", " + error : string.Empty) + "); trying once more with a new token");
            refusal = refused;
        }
        try
        {
            token = await GetTokenAsync(account, hopText, trace, cancellationToken).ConfigureAwait(false);
        }
        catch (ForwardingConnectionException noToken)
        {
            // Keep the next hop's refusal (its reply code) and say why no second token came (a static token cannot be renewed).
            throw new ForwardingConnectionException(refusal.Message + " " + noToken.Message, ConnectionStep.Auth, hopText, refusal.ReplyCode, refusal.ReplyText, noToken.IsTransient, noToken.InnerException);
        }
        if (await IsUsableAsync(client, cancellationToken).ConfigureAwait(false))
        {
            await LogInAsync(client, account.CreateMechanism(mechanism, token), mechanism, token.UserName, trace, cancellationToken).ConfigureAwait(false);
            return client;
        }
        // The caller disposes the client it gave; a fresh one is ours until it is returned.
        RelaySmtpClient fresh = CreateClient(client.NextHop, trace);
        try
        {
            await OpenAsync(fresh, fresh.NextHop, trace, cancellationToken).ConfigureAwait(false);
            await LogInAsync(fresh, account.CreateMechanism(mechanism, token), mechanism, token.UserName, trace, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            fresh.Dispose();
            throw;
        }
        client.Dispose();
        return fresh;
    }

    /// <summary>Whether the next hop kept the connection open after refusing AUTH (some close it after a 535): a NOOP tells, since a closed socket shows only when read.</summary>
    private static async Task<bool> IsUsableAsync(RelaySmtpClient client, CancellationToken cancellationToken)
    {
        if (!client.IsConnected)
        {
            return false;
        }
        try
        {
            await client.NoOpAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception error) when (IsSessionFailure(error, cancellationToken))
        {
            return false;
        }
    }

    /// <summary>Asks the account's provider for its token; a token that cannot be had fails the session at AUTH with the endpoint's error and remedy.</summary>
    private static async Task<AccessToken> GetTokenAsync(ClientAccount account, string hopText, ConnectionTrace trace, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            AccessToken token = await account.TokenProvider.GetTokenAsync(cancellationToken).ConfigureAwait(false);
            trace?.TokenAttempts.Add(new ConnectionTrace.TokenAttempt(clock.Elapsed, token, null));
            return token;
        }
        catch (TokenAcquisitionException error)
        {
            trace?.TokenAttempts.Add(new ConnectionTrace.TokenAttempt(clock.Elapsed, null, error));
            throw new ForwardingConnectionException(
                "No OAuth2 token to log in to " + hopText + ": " + error.Message,
                ConnectionStep.Auth, hopText, null, null, error.IsRetryable, error);
        }
    }

    private async Task LogInAsync(RelaySmtpClient client, SaslMechanism sasl, string mechanism, string userName, ConnectionTrace trace, CancellationToken cancellationToken)
    {
        string hopText = client.NextHop.ToString();
        var clock = Stopwatch.StartNew();
        try
        {
            await client.AuthenticateAsync(sasl, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (IsSessionFailure(error, cancellationToken))
        {
            if (trace != null)
            {
                trace.AuthElapsed = clock.Elapsed;
                trace.AuthDetail = mechanism + " as " + userName;
            }
            throw SessionFailure(client, hopText, error);
        }
        client.AuthenticatedAs = userName;
        client.AuthenticationMechanism = mechanism;
        if (trace != null)
        {
            trace.AuthElapsed = clock.Elapsed;
            trace.AuthDetail = mechanism + " as " + userName;
        }
    }

    /// <summary>The first mechanism that the preference order names, the account can serve, the next hop offers, is not avoided, and is safe on this connection.</summary>
    private string ChooseMechanism(RelaySmtpClient client, ClientAccount account, string hopText)
    {
        IEnumerable<string> order = _options.AuthMechanisms.Count > 0
            ? _options.AuthMechanisms.Select(m => m.Trim().ToUpperInvariant())
            : account.UsableMechanisms;
        var offered = new HashSet<string>(client.AuthenticationMechanisms, StringComparer.OrdinalIgnoreCase);
        var avoided = new HashSet<string>(_options.AvoidAuthMechanisms.Select(m => m.Trim()), StringComparer.OrdinalIgnoreCase);
        bool clearTextAllowed = client.IsSecure || _options.Tls == ClientTlsMode.None;
        var refusedInClear = new List<string>();
        foreach (string mechanism in order)
        {
            if (!account.UsableMechanisms.Contains(mechanism) || !offered.Contains(mechanism) || avoided.Contains(mechanism))
            {
                continue;
            }
            if (ClientAccount.RevealsSecret(mechanism) && !clearTextAllowed)
            {
                refusedInClear.Add(mechanism);
                continue;
            }
            if (ClientAccount.RevealsSecret(mechanism) && !client.IsSecure)
            {
                Log(RelayLogLevel.Warning, "forward " + hopText + ": AUTH " + mechanism + " sends the secret of " + account.UserName + " unencrypted (TLS is turned off)");
            }
            return mechanism;
        }
        string reason = refusedInClear.Count > 0
            ? "only " + string.Join(", ", refusedInClear) + " would do, which would send the secret unencrypted: the next hop did not offer STARTTLS (set the TLS mode to None to allow it)"
            : "none of " + string.Join(", ", order) + " (usable with this account" + (avoided.Count > 0 ? ", not avoided" : string.Empty) + ") is among those offered: " + string.Join(", ", offered);
        throw new ForwardingConnectionException(
            "No AUTH mechanism to log in to " + hopText + " as " + account.UserName + ": " + reason + ".",
            ConnectionStep.Auth, hopText, null, null, false, null);
    }

    private static bool IsSessionFailure(Exception error, CancellationToken cancellationToken) =>
        error is SmtpCommandException || error is SmtpProtocolException || error is AuthenticationException || error is SslHandshakeException ||
        error is NotSupportedException || error is IOException || error is SocketException || error is TimeoutException ||
        (error is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>Turns a MailKit failure into the step that failed (from the transcript's last command) and the reply that ended it.</summary>
    private ForwardingConnectionException SessionFailure(RelaySmtpClient client, string hopText, Exception error)
    {
        ProtocolTranscript transcript = client.Transcript;
        ConnectionStep step = error is SslHandshakeException ? ConnectionStep.Tls : transcript.LastCommand switch
        {
            null => ConnectionStep.Greeting,
            "EHLO" or "HELO" => ConnectionStep.Ehlo,
            "STARTTLS" => ConnectionStep.Tls,
            _ => ConnectionStep.Auth,
        };
        if (error is NotSupportedException && _options.Tls == ClientTlsMode.StartTls)
        {
            step = ConnectionStep.Tls;
        }
        (int? code, string text) = LastReply(transcript);
        if (code < 400)
        {
            // A positive reply (the 220 to STARTTLS, the 250 to EHLO) is not what failed.
            (code, text) = (null, null);
        }
        bool transient = step != ConnectionStep.Tls && (code == null || code < 500);
        string what = step switch
        {
            ConnectionStep.Greeting => transcript.HasServerSpoken ? "greeted with a refusal" : "sent no greeting",
            ConnectionStep.Ehlo => "refused EHLO",
            ConnectionStep.Tls => TlsProblem(client, error),
            _ => "refused AUTH",
        };
        if (error is OperationCanceledException || error is TimeoutException)
        {
            what = "did not answer within " + _options.ResponseTimeout.TotalSeconds + " s (" + step + ")";
            transient = true;
        }
        else if (code == null && error is IOException or SocketException or SmtpProtocolException && step != ConnectionStep.Tls)
        {
            what = "dropped the connection (" + step + "): " + error.Message;
            transient = true;
        }
        return new ForwardingConnectionException(
            "The next hop " + hopText + " " + what + (code != null && step != ConnectionStep.Tls ? ": " + code + " " + text : string.Empty) + ".",
            step, hopText, code, text, transient, error);
    }

    private string TlsProblem(RelaySmtpClient client, Exception error)
    {
        if (error is NotSupportedException)
        {
            return "does not offer STARTTLS, which the TLS mode StartTls requires";
        }
        ServerCertificateInfo certificate = client.ServerCertificate;
        if (certificate != null && !certificate.IsTrusted)
        {
            return "presented a certificate that does not verify (" + certificate.Subject + ", issuer " + certificate.Issuer + "): " + certificate.ValidationErrors;
        }
        return "failed the TLS handshake: " + (error.InnerException?.Message ?? error.Message);
    }

    /// <summary>The last reply of the server, if it came after the client's last command.</summary>
    internal static (int? Code, string Text) LastReply(ProtocolTranscript transcript)
    {
        IReadOnlyList<TranscriptLine> lines = transcript.Lines;
        if (lines.Count == 0 || lines[lines.Count - 1].FromClient)
        {
            return (null, null);
        }
        return ProtocolTranscript.ParseReply(lines[lines.Count - 1].Text);
    }

    private void Log(RelayLogLevel level, string text)
    {
        if (_options.Log != null && level >= _options.LogLevel)
        {
            _options.Log(level, text);
        }
    }

    private static void CheckTimeout(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentException("The " + name + " must be positive and under 24 days.", name);
        }
    }
}
