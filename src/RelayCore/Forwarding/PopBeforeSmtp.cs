// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using MailKit.Net.Pop3;
using MailKit.Security;
using RelayCore.Hosting;

namespace RelayCore.Forwarding;

/// <summary>
/// The Email Redirector's POP-before-SMTP step, run before each SMTP session: connect to the POP3 server
/// (TLS per its option), log in with exactly the method chosen (USER/PASS or APOP, never a SASL mechanism
/// picked behind the administrator's back), STAT, QUIT, then wait the delay so the ISP's relay list
/// catches up. Each stage is logged at Information with a UTC timestamp, so the delay shows in the log.
/// </summary>
internal sealed class PopBeforeSmtp
{
    private readonly PopBeforeSmtpOptions _pop;
    private readonly ForwardingOptions _options;
    private readonly NetworkCredential _credential;
    private readonly NextHopConnector _connector;
    private readonly CertificatePolicy _certificates;

    /// <exception cref="ArgumentException">No POP3 server, a negative delay, or no password to log in with.</exception>
    internal PopBeforeSmtp(PopBeforeSmtpOptions pop, ClientAccount forwardingAccount, ForwardingOptions options, NextHopConnector connector, CertificatePolicy certificates)
    {
        _pop = pop;
        _options = options;
        _connector = connector;
        _certificates = certificates;
        if (pop.Server == null)
        {
            throw new ArgumentException("POP-before-SMTP needs the POP3 server, as host:port.", nameof(pop));
        }
        if (pop.Server.UsesSocks)
        {
            throw new ArgumentException("POP-before-SMTP connects to the POP3 server directly; a SOCKS proxy cannot be given for it.", nameof(pop));
        }
        if (pop.Delay < TimeSpan.Zero || pop.Delay.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentException("The POP-before-SMTP delay must be zero or more (and under 24 days).", nameof(pop));
        }
        if (!Enum.IsDefined(typeof(ClientTlsMode), pop.Tls))
        {
            throw new ArgumentException("Unknown POP3 TLS mode " + pop.Tls + ".", nameof(pop));
        }
        _credential = pop.Credential;
        if (_credential == null && forwardingAccount?.Password != null)
        {
            _credential = new NetworkCredential(forwardingAccount.UserName, forwardingAccount.Password);
        }
        if (_credential == null || string.IsNullOrEmpty(_credential.UserName))
        {
            throw new ArgumentException("POP-before-SMTP needs an account with a password: give its own credential, or a forwarding account with a plain password (an md5 or OAuth2 client secret cannot log in to POP3).", nameof(pop));
        }
    }

    private string Method => _pop.UseApop ? "APOP" : "USER/PASS";

    /// <summary>Logs in, STATs, QUITs and waits the delay.</summary>
    /// <exception cref="ForwardingConnectionException">A POP3 step failed (step <see cref="ConnectionStep.Pop"/>).</exception>
    /// <exception cref="OperationCanceledException">Cancelled, the delay included.</exception>
    internal async Task RunAsync(string hopText, ConnectionTrace trace, CancellationToken cancellationToken)
    {
        string server = _pop.Server.ToString();
        string prefix = "pop-before-smtp " + server + ": ";
        var transcript = new ProtocolTranscript(_options.Log, _options.LogLevel, prefix);
        if (trace != null)
        {
            trace.PopTranscript = transcript;
        }
        var clock = Stopwatch.StartNew();
        using var client = new Pop3Client(transcript) { Timeout = (int)_options.ResponseTimeout.TotalMilliseconds };
        client.ServerCertificateValidationCallback = _certificates.CreateCallback(_pop.Server.Host, _ => { });
        int count;
        Socket socket = null;
        try
        {
            socket = await _connector.ConnectSocketAsync(_pop.Server.Host, _pop.Server.Port, hopText, ConnectionStep.Pop, cancellationToken).ConfigureAwait(false);
            await client.ConnectAsync(socket, _pop.Server.Host, _pop.Server.Port, SecureOptions(_pop.Tls), cancellationToken).ConfigureAwait(false);
            // Exactly the method chosen: no SASL, and APOP only when asked for.
            client.AuthenticationMechanisms.Clear();
            if (_pop.UseApop && (client.Capabilities & Pop3Capabilities.Apop) == 0)
            {
                throw new ForwardingConnectionException(
                    "The POP3 server " + server + " does not offer APOP (no timestamp in its greeting); use USER/PASS.",
                    ConnectionStep.Pop, hopText, null, null, false, null);
            }
            if (!_pop.UseApop)
            {
                client.Capabilities &= ~Pop3Capabilities.Apop;
            }
            await client.AuthenticateAsync(_credential, cancellationToken).ConfigureAwait(false);
            Log(prefix + "logged in as " + _credential.UserName + " with " + Method + " at " + Now());
            // MailKit sends STAT right after the login; its answer is the minimal handshake.
            count = client.Count;
            Log(prefix + "STAT: " + count.ToString(CultureInfo.InvariantCulture) + " message(s)");
            await client.DisconnectAsync(true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            // Until MailKit holds the connection, it is ours to close, whatever went wrong (cancellation too).
            socket?.Dispose();
            if (!IsPopFailure(error, cancellationToken))
            {
                throw;
            }
            bool refused = error is AuthenticationException || error is Pop3CommandException;
            string reason = error is OperationCanceledException ? "no answer within " + _options.ResponseTimeout.TotalSeconds + " s" : error.Message;
            throw new ForwardingConnectionException(
                "POP-before-SMTP to " + server + " as " + _credential.UserName + " (" + Method + ") failed: " + reason,
                ConnectionStep.Pop, hopText, null, refused ? error.Message : null, !refused && !(error is SslHandshakeException), error);
        }
        Log(prefix + "QUIT at " + Now() + "; waiting " + _pop.Delay.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s before connecting to " + hopText);
        var waited = Stopwatch.StartNew();
        // A timer may fire a tick early; the ISP's relay list is promised the whole delay.
        while (waited.Elapsed < _pop.Delay)
        {
            await Task.Delay(_pop.Delay - waited.Elapsed + TimeSpan.FromMilliseconds(1), cancellationToken).ConfigureAwait(false);
        }
        Log(prefix + "delay over at " + Now() + "; connecting to " + hopText);
        if (trace != null)
        {
            trace.PopElapsed = clock.Elapsed;
            trace.PopDetail = "logged in as " + _credential.UserName + " with " + Method + ", STAT " + count.ToString(CultureInfo.InvariantCulture) +
                " message(s), QUIT, waited " + _pop.Delay.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
        }
    }

    internal static SecureSocketOptions SecureOptions(ClientTlsMode mode) => mode switch
    {
        ClientTlsMode.None => SecureSocketOptions.None,
        ClientTlsMode.StartTls => SecureSocketOptions.StartTls,
        ClientTlsMode.Implicit => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.StartTlsWhenAvailable,
    };

    private static bool IsPopFailure(Exception error, CancellationToken cancellationToken) =>
        error is Pop3CommandException || error is Pop3ProtocolException || error is AuthenticationException || error is SslHandshakeException ||
        error is NotSupportedException || error is IOException || error is SocketException ||
        (error is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static string Now() => DateTime.UtcNow.ToString("HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private void Log(string text)
    {
        if (_options.Log != null && _options.LogLevel <= RelayLogLevel.Information)
        {
            _options.Log(RelayLogLevel.Information, text);
        }
    }
}
