// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using MailKit.Net.Smtp;
using RelayCore.OAuth;

namespace RelayCore.Forwarding;

/// <summary>
/// Probes a next hop the way forwarding would open a session (POP-before-SMTP, connection or SOCKS,
/// greeting, EHLO, STARTTLS, AUTH), then QUITs without sending mail: what Test-RelayConnection returns.
/// </summary>
public static class ConnectionProbe
{
    /// <summary>Runs the probe against <see cref="ForwardingOptions.NextHop"/>.</summary>
    /// <param name="options">The forwarding configuration to test, next hop included.</param>
    /// <param name="accountSelector">The client account selector to log in with; null or empty for the default account.</param>
    /// <param name="cancellationToken">Cancels the probe.</param>
    /// <returns>Each step's outcome and time, what the next hop offered, and where and why it failed. A network failure is recorded, never thrown.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The options have no next hop, or are incomplete or contradictory.</exception>
    /// <exception cref="RelayCore.Auth.SecretsFormatException">The client secrets file has a bad line.</exception>
    /// <exception cref="IOException">A file the options name (secrets, CA file, client certificate) cannot be read.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<ConnectionProbeResult> RunAsync(ForwardingOptions options, string accountSelector, CancellationToken cancellationToken)
    {
        if (options == null)
        {
            throw new ArgumentNullException(nameof(options));
        }
        if (options.NextHop == null)
        {
            throw new ArgumentException("The next hop to probe is required.", nameof(options));
        }
        var connector = new NextHopConnector(options);
        var trace = new ConnectionTrace();
        var result = new ConnectionProbeResult { NextHop = options.NextHop.ToString() };
        var clock = Stopwatch.StartNew();
        ForwardingConnectionException failure = null;
        RelaySmtpClient client = null;
        try
        {
            client = await connector.ConnectAsync(options.NextHop, accountSelector, trace, cancellationToken).ConfigureAwait(false);
        }
        catch (ForwardingConnectionException error)
        {
            failure = error;
            result.FailedStep = error.Step;
            result.Error = error.Message;
            result.IsTransient = error.IsTransient;
        }
        try
        {
            if (client != null)
            {
                Describe(client, result);
                await QuitAsync(client, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            client?.Dispose();
        }
        result.Certificate ??= trace.Certificate;
        if (trace.TokenProvider != null)
        {
            result.OAuth = new ConnectionProbeToken { Provider = trace.TokenProvider.Description };
            if (failure != null && trace.TokenAttempts.Count > 0 && trace.TokenAttempts[trace.TokenAttempts.Count - 1].Error != null &&
                trace.TokenAttempts.All(a => a.Refusal == null))
            {
                // No token: the endpoint's answer is the failure, and AUTH was never tried. (After the next hop refused
                // a token, its 535 stays the failure; the renewal that could not be had is the last step.)
                result.FailedStep = ConnectionStep.Token;
            }
        }
        result.Steps = new ProbeSteps(options, trace, failure, result).Build();
        result.Transcript = Lines(trace.PopTranscript, "POP ").Concat(Lines(trace.Transcript, string.Empty)).ToList();
        result.Elapsed = clock.Elapsed;
        return result;
    }

    private static void Describe(RelaySmtpClient client, ConnectionProbeResult result)
    {
        result.IsSecure = client.IsSecure;
        result.TlsProtocol = client.TlsProtocol ?? string.Empty;
        result.TlsCipher = client.TlsCipher ?? string.Empty;
        result.Certificate = client.ServerCertificate;
        result.MaxSize = (client.Capabilities & SmtpCapabilities.Size) != 0 ? client.MaxSize : (long?)null;
        result.AuthMechanisms = client.AuthenticationMechanisms.OrderBy(m => m, StringComparer.Ordinal).ToList();
        result.AuthenticatedAs = client.AuthenticatedAs ?? string.Empty;
        result.AuthMechanism = client.AuthenticationMechanism ?? string.Empty;
    }

    /// <summary>Ends the session politely; a next hop that drops it instead is no failure of the probe.</summary>
    private static async Task QuitAsync(RelaySmtpClient client, CancellationToken cancellationToken)
    {
        client.Transcript.IsRecording = true;
        try
        {
            await client.DisconnectAsync(true, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is IOException || error is SocketException || error is SmtpProtocolException || error is SmtpCommandException)
        {
            // The transcript shows how QUIT went; the probe's verdict is about the steps before it.
        }
    }

    private static IEnumerable<string> Lines(ProtocolTranscript transcript, string prefix) =>
        transcript == null ? Enumerable.Empty<string>() : transcript.Lines.Select(l => prefix + (l.FromClient ? "C: " : "S: ") + l.Text);

    /// <summary>Turns the trace and the SMTP transcript into the probe's steps, one per exchange, with their times.</summary>
    private sealed class ProbeSteps
    {
        private readonly ForwardingOptions _options;
        private readonly ConnectionTrace _trace;
        private readonly ForwardingConnectionException _failure;
        private readonly ConnectionProbeResult _result;
        private readonly List<ConnectionProbeStep> _steps = new List<ConnectionProbeStep>();
        private int _tokensAdded;
        private int _authsLeft;

        internal ProbeSteps(ForwardingOptions options, ConnectionTrace trace, ForwardingConnectionException failure, ConnectionProbeResult result)
        {
            _options = options;
            _trace = trace;
            _failure = failure;
            _result = result;
        }

        internal List<ConnectionProbeStep> Build()
        {
            if (_options.PopBeforeSmtp == null)
            {
                Add(ConnectionStep.Pop, ConnectionProbeOutcome.Skipped, TimeSpan.Zero, "not configured", null);
            }
            else if (!AddReached(ConnectionStep.Pop, _trace.PopElapsed, _trace.PopDetail, _trace.PopTranscript?.Elapsed ?? TimeSpan.Zero))
            {
                return _steps;
            }
            ConnectionStep path = _options.NextHop.UsesSocks ? ConnectionStep.Socks : ConnectionStep.Connect;
            if (_failure?.Step == ConnectionStep.Connect && path == ConnectionStep.Socks)
            {
                Fail(ConnectionStep.Connect, TimeSpan.Zero);
                return _steps;
            }
            if (!AddReached(path, path == ConnectionStep.Socks ? _trace.SocksElapsed : _trace.ConnectElapsed, _trace.ConnectDetail, TimeSpan.Zero))
            {
                return _steps;
            }
            if (_options.Tls == ClientTlsMode.Implicit)
            {
                AddImplicitTls();
            }
            AddExchanges();
            AddTokens(_trace.TokenAttempts.Count - 1);
            if (_failure != null && _steps[_steps.Count - 1].Outcome != ConnectionProbeOutcome.Failed)
            {
                // Failed between exchanges: STARTTLS required but not offered, no usable AUTH mechanism, no AUTH offered.
                Fail(_failure.Step, TimeSpan.Zero);
            }
            AddSkipped();
            return _steps;
        }

        private bool AddReached(ConnectionStep step, TimeSpan? elapsed, string detail, TimeSpan failedAfter)
        {
            if (elapsed != null)
            {
                Add(step, ConnectionProbeOutcome.Succeeded, elapsed.Value, detail, null);
                return true;
            }
            Fail(step, failedAfter);
            return false;
        }

        private void AddImplicitTls()
        {
            bool failedHere = _failure?.Step == ConnectionStep.Tls && _trace.Transcript?.HasServerSpoken != true;
            if (failedHere)
            {
                Fail(ConnectionStep.Tls, TimeSpan.Zero);
                return;
            }
            Add(ConnectionStep.Tls, ConnectionProbeOutcome.Succeeded, TimeSpan.Zero, "implicit TLS (the handshake is timed with the greeting); " + TlsDetail(), null);
        }

        private void AddExchanges()
        {
            IReadOnlyList<TranscriptLine> lines = _trace.Transcript?.Lines ?? Array.Empty<TranscriptLine>();
            _authsLeft = lines.Count(l => l.FromClient && Word(l.Text) == "AUTH");
            TimeSpan start = _trace.ConnectedAt;
            string command = null;
            var replies = new List<TranscriptLine>();
            for (int i = 0; i <= lines.Count; i++)
            {
                bool newCommand = i == lines.Count || (lines[i].FromClient && IsCommand(lines[i].Text));
                if (!newCommand)
                {
                    if (!lines[i].FromClient)
                    {
                        replies.Add(lines[i]);
                    }
                    continue;
                }
                if (command != null || replies.Count > 0 || i == lines.Count)
                {
                    // STARTTLS's handshake runs until the client speaks again.
                    TimeSpan end = command == "STARTTLS" && i < lines.Count ? lines[i].At : replies.Count > 0 ? replies[replies.Count - 1].At : start;
                    AddExchange(command, replies, end - start, i == lines.Count);
                }
                if (i < lines.Count)
                {
                    command = Word(lines[i].Text);
                    start = lines[i].At;
                    replies.Clear();
                }
            }
        }

        private void AddExchange(string command, List<TranscriptLine> replies, TimeSpan elapsed, bool isLast)
        {
            ConnectionStep? step = command switch
            {
                null => ConnectionStep.Greeting,
                "EHLO" or "HELO" => ConnectionStep.Ehlo,
                "STARTTLS" => ConnectionStep.Tls,
                "AUTH" => ConnectionStep.Auth,
                _ => null,
            };
            if (step == null)
            {
                return;
            }
            (int? code, string text) = replies.Count > 0 ? ProtocolTranscript.ParseReply(replies[replies.Count - 1].Text) : (null, string.Empty);
            if (step == ConnectionStep.Auth)
            {
                AddAuth(replies, elapsed, code, text, isLast);
                return;
            }
            if (isLast && _failure != null && _failure.Step == step)
            {
                Fail(step.Value, elapsed);
                return;
            }
            string detail = step switch
            {
                ConnectionStep.Greeting => Greeting(replies),
                ConnectionStep.Ehlo => Extensions(replies),
                ConnectionStep.Tls => TlsDetail(),
                _ => _result.AuthMechanism + " as " + _result.AuthenticatedAs + ": " + code + " " + text,
            };
            Add(step.Value, ConnectionProbeOutcome.Succeeded, elapsed, detail, code);
        }

        /// <summary>An AUTH exchange, preceded by the token requests that led to it; a refused OAuth2 token shows the next hop's decoded error.</summary>
        private void AddAuth(List<TranscriptLine> replies, TimeSpan elapsed, int? code, string text, bool isLast)
        {
            AddTokens(TokenFor(_authsLeft--));
            string error = null;
            foreach (TranscriptLine reply in replies)
            {
                (int? challengeCode, string challenge) = ProtocolTranscript.ParseReply(reply.Text);
                if (challengeCode == 334 && XOAuth2ErrorReply.TryDecode(challenge, out string json))
                {
                    error = json;
                }
            }
            ConnectionProbeToken oauth = _result.OAuth;
            if (oauth != null)
            {
                oauth.AuthReplyCode = code;
                oauth.AuthReply = text;
                oauth.NextHopError = error ?? string.Empty;
            }
            string decoded = error == null ? string.Empty : " (the next hop's error: " + error + ")";
            bool failedHere = isLast && _failure != null && _failure.Step == ConnectionStep.Auth;
            if (failedHere || code >= 400)
            {
                string detail = failedHere ? _failure.Message : "refused: " + code + " " + text + "; trying once more with a new token";
                Add(ConnectionStep.Auth, ConnectionProbeOutcome.Failed, elapsed, detail + decoded, code ?? _failure?.ReplyCode);
                return;
            }
            Add(ConnectionStep.Auth, ConnectionProbeOutcome.Succeeded, elapsed, _result.AuthMechanism + " as " + _result.AuthenticatedAs + ": " + code + " " + text, code);
        }

        /// <summary>
        /// The index of the token attempt an AUTH exchange used, counting AUTHs from the end: each used a token that was
        /// had, and the transcript may have lost earlier ones (a next hop that closed after refusing a token).
        /// </summary>
        private int TokenFor(int authsLeft)
        {
            int had = 0;
            for (int i = _trace.TokenAttempts.Count - 1; i >= 0; i--)
            {
                if (_trace.TokenAttempts[i].Token != null && ++had == authsLeft)
                {
                    return i;
                }
            }
            return -1;
        }

        /// <summary>Adds a Token step for each token attempt up to <paramref name="last"/> not yet added, and describes the last in <see cref="ConnectionProbeResult.OAuth"/>.</summary>
        private void AddTokens(int last)
        {
            IAccessTokenProvider provider = _trace.TokenProvider;
            for (; _tokensAdded <= last; _tokensAdded++)
            {
                ConnectionTrace.TokenAttempt attempt = _trace.TokenAttempts[_tokensAdded];
                ConnectionProbeToken oauth = _result.OAuth;
                oauth.Elapsed = attempt.Elapsed;
                if (attempt.Error != null)
                {
                    oauth.Describe(attempt.Error);
                    Add(ConnectionStep.Token, ConnectionProbeOutcome.Failed, attempt.Elapsed, provider.Description + ": " + attempt.Error.Message, null);
                    continue;
                }
                oauth.Describe(attempt.Token, provider);
                string detail = provider.Description + ": " + oauth.Summary();
                if (attempt.Refusal != null)
                {
                    (int? code, string text, string error) = attempt.Refusal.Value;
                    oauth.Refused++;
                    detail += "; refused by the next hop: " + code + " " + text + (error == null ? string.Empty : " (" + error + ")");
                }
                Add(ConnectionStep.Token, ConnectionProbeOutcome.Succeeded, attempt.Elapsed, detail, null);
            }
        }

        private void AddSkipped()
        {
            if (_failure != null)
            {
                return;
            }
            if (!_steps.Any(s => s.Step == ConnectionStep.Tls))
            {
                Add(ConnectionStep.Tls, ConnectionProbeOutcome.Skipped, TimeSpan.Zero, _options.Tls == ClientTlsMode.None ? "turned off" : "STARTTLS not offered", null);
            }
            if (!_steps.Any(s => s.Step == ConnectionStep.Auth))
            {
                Add(ConnectionStep.Auth, ConnectionProbeOutcome.Skipped, TimeSpan.Zero, "no client account configured", null);
            }
        }

        private string Greeting(List<TranscriptLine> replies)
        {
            string banner = string.Join(" ", replies.Select(r => ProtocolTranscript.ParseReply(r.Text).Text));
            _result.Banner = banner;
            return banner;
        }

        private string Extensions(List<TranscriptLine> replies)
        {
            List<string> extensions = replies.Skip(1).Select(r => ProtocolTranscript.ParseReply(r.Text).Text).Where(t => t.Length > 0).ToList();
            _result.Extensions = extensions;
            if (_result.AuthMechanisms.Count == 0)
            {
                string auth = extensions.FirstOrDefault(e => e.StartsWith("AUTH ", StringComparison.OrdinalIgnoreCase));
                _result.AuthMechanisms = auth == null ? Array.Empty<string>() : auth.Substring(5).Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
            }
            return string.Join(", ", extensions);
        }

        private string TlsDetail()
        {
            ServerCertificateInfo certificate = _result.Certificate ?? _trace.Certificate;
            string session = _result.IsSecure ? _result.TlsProtocol + " " + _result.TlsCipher + "; " : string.Empty;
            return certificate == null ? session.TrimEnd(' ', ';') : session + "certificate " + certificate.Subject + ", issuer " + certificate.Issuer +
                ", expires " + certificate.NotAfter.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + (certificate.IsTrusted ? ", trusted" : ", NOT trusted: " + certificate.ValidationErrors);
        }

        private void Fail(ConnectionStep step, TimeSpan elapsed) =>
            Add(step, ConnectionProbeOutcome.Failed, elapsed, _failure?.Message ?? string.Empty, _failure?.ReplyCode);

        private void Add(ConnectionStep step, ConnectionProbeOutcome outcome, TimeSpan elapsed, string detail, int? code) =>
            _steps.Add(new ConnectionProbeStep(step, outcome, elapsed < TimeSpan.Zero ? TimeSpan.Zero : elapsed, detail, code));

        private static bool IsCommand(string line)
        {
            string word = Word(line);
            return word is "EHLO" or "HELO" or "STARTTLS" or "AUTH" or "MAIL" or "RSET" or "NOOP" or "QUIT";
        }

        private static string Word(string line)
        {
            int space = line.IndexOf(' ');
            return (space < 0 ? line : line.Substring(0, space)).ToUpperInvariant();
        }
    }
}
