// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Auth;
using RelayCore.Hosting;
using RelayCore.Net;
using RelayCore.Spool;

namespace RelayCore.Smtp;

/// <summary>
/// One client connection: the RFC 5321 state machine, its extensions, and the receipt of
/// messages into the spool. Commands are handled synchronously from the buffered line; only
/// socket reads, DATA/BDAT streaming, the commit and the TLS handshake await.
/// </summary>
internal sealed partial class SmtpSession
{
    // RFC 6531 section 3.5: a UTF-8 mailbox without MAIL's SMTPUTF8 parameter is refused with X.6.7.
    private const string NonAsciiAddress = "553 5.6.7 Non-ASCII addresses need the SMTPUTF8 parameter on MAIL";

    // RFC 5321 section 4.5.3.1.2.
    private const int MaxDomainLength = 255;

    /// <summary>Committed messages a session keeps for the pass after its disconnect; the pass lists the spool when there were more.</summary>
    internal const int MaxRememberedStored = 1000;

    private static readonly Encoding s_utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
    private static readonly Encoding s_strictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly TimeSpan s_closeGrace = TimeSpan.FromSeconds(2);

    private readonly SmtpServerContext _context;
    private readonly RelayServerOptions _options;
    private readonly Socket _socket;
    private readonly bool _isImplicitTls;
    private readonly IPAddress _clientAddress;
    private readonly CancellationTokenSource _deadline = new CancellationTokenSource();
    private readonly SmtpInputBuffer _input;
    private readonly SmtpReplyWriter _output = new SmtpReplyWriter();
    private Stream _stream;
    private SmtpSessionState _state;
    private bool _isSecure;
    private bool _isExtended;
    private string _heloName;
    private string _authenticatedUser;
    private SecretEntry _trustedRange;
    private SaslServer _sasl;
    private int _badCommands;
    private int _storedCount;
    private List<RelayMessage> _stored;
    private int _isAwaitingCommand;

    // The open mail transaction.
    private string _from;
    private readonly List<string> _recipients = new List<string>();
    private MessageBodyType _bodyType;
    private string _mailFromAuth;
    private bool _isUtf8;
    private IncomingMessage _message;
    private long _messageBytes;
    private bool _isTooBig;
    private long _chunkRemaining;
    private bool _isLastChunk;

    internal SmtpSession(SmtpServerContext context, Socket socket, bool isImplicitTls)
    {
        _context = context;
        _options = context.Options;
        _socket = socket;
        _isImplicitTls = isImplicitTls;
        _clientAddress = (socket.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
        _input = new SmtpInputBuffer(_options.MaxLineLength);
        _stream = new NetworkStream(socket, ownsSocket: true);
        ClientText = ClientAddressPolicy.ToEnvelopeText(_clientAddress);
        // Only for reads that ignore cancellation (the TLS handshake, netstandard2.0 sockets):
        // the session gets a moment to say 421 itself before the socket is closed under it.
        _deadline.Token.Register(state => ((SmtpSession)state).CloseAfterGrace(), this);
    }

    private enum Next
    {
        Continue,
        Close,
        ReceiveData,
        ReceiveChunk,
        StartTls,
    }

    /// <summary>The client's IP address as envelopes store it.</summary>
    internal string ClientText { get; }

    /// <summary>How many messages this client stored (answered 250, or refused in immediate mode after the commit).</summary>
    internal int StoredCount => Volatile.Read(ref _storedCount);

    /// <summary>
    /// The messages this client stored, oldest first, for the forwarding pass after it disconnects (proxy
    /// mode only; empty otherwise); at most <see cref="MaxRememberedStored"/>.
    /// </summary>
    internal IReadOnlyCollection<RelayMessage> StoredMessages => (IReadOnlyCollection<RelayMessage>)_stored ?? Array.Empty<RelayMessage>();

    private CancellationToken Token => _deadline.Token;

    /// <summary>Counts a committed message and, in proxy mode, keeps it for the pass after the disconnect.</summary>
    /// <remarks>Not with immediate mode too: there the message is forwarded already, or in a forwarder's care, or withdrawn.</remarks>
    private void RememberStored(RelayMessage committed)
    {
        Interlocked.Increment(ref _storedCount);
        if (_options.ForwardOnDisconnect && !_options.ForwardImmediately)
        {
            _stored ??= new List<RelayMessage>();
            if (_stored.Count < MaxRememberedStored)
            {
                _stored.Add(committed);
            }
        }
    }

    private string ShuttingDown => "421 4.3.2 " + _context.Domain + " Service shutting down";

    /// <summary>Runs the conversation until the client quits, fails, times out or the server stops.</summary>
    internal async Task RunAsync()
    {
        // Guarded: building these strings per connection is wasted work when nobody listens.
        if (_context.IsLogging(RelayLogLevel.Information))
        {
            _context.Log(RelayLogLevel.Information, "connection from " + ClientText + (_isImplicitTls ? " (implicit TLS)" : string.Empty));
        }
        try
        {
            if (_isImplicitTls)
            {
                await HandshakeAsync().ConfigureAwait(false);
            }
            _trustedRange = _context.Secrets?.FindTrustedRange(_clientAddress);
            Reply(_options.Anonymous ? "220 " + _context.Domain + " ESMTP" : "220 " + _context.Domain + " -- Relay -- Service ready");
            await ConverseAsync().ConfigureAwait(false);
        }
        catch (SmtpLineTooLongException)
        {
            _context.Log(RelayLogLevel.Warning, ClientText + ": line too long, disconnecting");
            await SayGoodbyeAsync("500 5.5.2 Line too long").ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_deadline.IsCancellationRequested)
        {
            if (_context.IsStopping)
            {
                await SayGoodbyeAsync(ShuttingDown).ConfigureAwait(false);
            }
            else
            {
                _context.Log(RelayLogLevel.Warning, ClientText + ": idle timeout");
                await SayGoodbyeAsync("421 4.4.2 " + _context.Domain + " Idle timeout, closing connection").ConfigureAwait(false);
            }
        }
        catch (Exception error) when (error is IOException || error is SocketException || error is ObjectDisposedException || error is AuthenticationException)
        {
            _context.Log(RelayLogLevel.Information, ClientText + ": connection lost: " + error.Message);
        }
        finally
        {
            AbandonUnfinishedMessage();
            _deadline.Dispose();
            _stream.Dispose();
            _input.Dispose();
            _output.Dispose();
            if (_context.IsLogging(RelayLogLevel.Information))
            {
                _context.Log(RelayLogLevel.Information, "connection from " + ClientText + " closed");
            }
        }
    }

    /// <summary>At server stop: a session waiting for a command is told 421 at once; a busy one finishes its command first.</summary>
    internal void OnServerStopping()
    {
        if (Volatile.Read(ref _isAwaitingCommand) != 0)
        {
            CancelDeadline();
        }
    }

    /// <summary>Closes the connection under the session (after the stop grace period).</summary>
    internal void Abort()
    {
        CancelDeadline();
        CloseSocket();
    }

    private async Task ConverseAsync()
    {
        while (true)
        {
            while (_input.TryReadLine(out ReadOnlySpan<byte> line))
            {
                Next next = HandleLine(line);
                if (next == Next.Close)
                {
                    await _output.FlushAsync(_stream, Token).ConfigureAwait(false);
                    return;
                }
                if (next != Next.Continue && !await PerformAsync(next).ConfigureAwait(false))
                {
                    return;
                }
            }
            // The batch's replies go out before the session counts as idle, so a stop cannot cut them off.
            _deadline.CancelAfter(_options.IdleTimeout);
            await _output.FlushAsync(_stream, Token).ConfigureAwait(false);
            // Waiting for a command: the one place a stopping server may interrupt.
            Interlocked.Exchange(ref _isAwaitingCommand, 1);
            if (_context.IsStopping)
            {
                await SayGoodbyeAsync(ShuttingDown).ConfigureAwait(false);
                return;
            }
            bool more = await FillAsync(isIdle: true).ConfigureAwait(false);
            Interlocked.Exchange(ref _isAwaitingCommand, 0);
            if (!more)
            {
                return;
            }
        }
    }

    /// <summary>Does what a command started and cannot finish synchronously; false ends the session.</summary>
    private async Task<bool> PerformAsync(Next next)
    {
        switch (next)
        {
            case Next.ReceiveData:
                return await ReceiveDataAsync().ConfigureAwait(false);
            case Next.ReceiveChunk:
                return await ReceiveChunkAsync().ConfigureAwait(false);
            default:
                await _output.FlushAsync(_stream, Token).ConfigureAwait(false);
                // Anything the client sent before the handshake could be a command injected in clear.
                _input.DiscardBuffered();
                await HandshakeAsync().ConfigureAwait(false);
                ResetAfterTls();
                return true;
        }
    }

    /// <summary>Sends queued replies, then reads more input within the idle timeout.</summary>
    private async Task<bool> FillAsync(bool isIdle)
    {
        _deadline.CancelAfter(_options.IdleTimeout);
        await _output.FlushAsync(_stream, Token).ConfigureAwait(false);
        return await _input.FillAsync(_stream, isIdle, Token).ConfigureAwait(false);
    }

    private async Task HandshakeAsync()
    {
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        _stream = tls;
        _deadline.CancelAfter(_options.IdleTimeout);
#if NET
        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificateContext = _context.CertificateContext }, Token).ConfigureAwait(false);
#else
        // Windows PowerShell: SChannel sends the intermediates it finds in the Windows certificate store.
        await tls.AuthenticateAsServerAsync(_context.Certificate, false, SslProtocols.None, false).ConfigureAwait(false);
#endif
        _isSecure = true;
        _context.Log(RelayLogLevel.Information, ClientText + ": TLS started (" + tls.SslProtocol + ")");
    }

    private void ResetAfterTls()
    {
        // RFC 3207 section 4.2: the client must start again with EHLO; nothing earlier carries over.
        ResetTransaction();
        _state = SmtpSessionState.Connected;
        _heloName = null;
        _isExtended = false;
        _authenticatedUser = null;
        _sasl = null;
    }

    private Next HandleLine(ReadOnlySpan<byte> line)
    {
        if (HasControlCharacters(line))
        {
            // A CR, NUL, NEL or U+2028 inside a command could forge header or envelope lines later.
            _sasl = null;
            return Bad("500 5.5.2 Control characters and invalid UTF-8 are not allowed in commands");
        }
        if (_sasl != null)
        {
            return ContinueAuth(line);
        }
        SmtpVerb verb = SmtpVerbParser.Parse(line, out ReadOnlySpan<byte> argumentBytes);
        if (_context.IsLogging(RelayLogLevel.Debug))
        {
            _context.Log(RelayLogLevel.Debug, ClientText + " C: " + (verb == SmtpVerb.Auth ? RedactAuth(line) : s_utf8.GetString(line.ToArray())));
        }
        switch (verb)
        {
            case SmtpVerb.Ehlo:
            case SmtpVerb.Helo:
                return Hello(verb == SmtpVerb.Ehlo, argumentBytes);
            case SmtpVerb.Mail:
                return Mail(Decode(argumentBytes));
            case SmtpVerb.Rcpt:
                return Recipient(Decode(argumentBytes));
            case SmtpVerb.Data:
                return Data(argumentBytes);
            case SmtpVerb.Bdat:
                return Bdat(Decode(argumentBytes));
            case SmtpVerb.Rset:
                ResetTransaction();
                return Reply("250 2.0.0 OK");
            case SmtpVerb.Noop:
                return Reply("250 2.0.0 OK");
            case SmtpVerb.Quit:
                Reply("221 2.0.0 " + _context.Domain + " closing connection");
                return Next.Close;
            case SmtpVerb.Vrfy:
                return _options.Anonymous
                    ? Bad("502 5.5.1 VRFY disabled")
                    : Reply("252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
            case SmtpVerb.Help:
                return Reply("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP STARTTLS AUTH");
            case SmtpVerb.StartTls:
                return StartTls(argumentBytes);
            case SmtpVerb.Auth:
                return Auth(Decode(argumentBytes));
            case SmtpVerb.Expn:
                return Bad("502 5.5.1 EXPN is disabled: a relay does not expand mailing lists");
            default:
                return Bad("500 5.5.2 Command unrecognized");
        }
    }

    private Next Hello(bool isExtended, ReadOnlySpan<byte> argument)
    {
        if (argument.Length == 0)
        {
            return Bad("501 5.5.4 " + (isExtended ? "EHLO" : "HELO") + " needs a domain or address literal");
        }
        if (argument.Length > MaxDomainLength)
        {
            // It goes into the Received: line, which must stay under RFC 5322's 998 octets for the next hop.
            return Bad("501 5.5.4 Domain name longer than " + MaxDomainLength + " octets");
        }
        ResetTransaction();
        _heloName = Decode(argument);
        _isExtended = isExtended;
        _state = SmtpSessionState.Greeted;
        if (!isExtended)
        {
            return Reply("250 " + _context.Domain + " says hello");
        }
        return Reply(_context.EhloReply(Capabilities()));
    }

    private SmtpCapabilities Capabilities()
    {
        SmtpCapabilities capabilities = _context.BaseCapabilities;
        if (_context.Certificate != null && !_isSecure)
        {
            capabilities |= SmtpCapabilities.StartTls;
        }
        if (_context.HasServerAccounts && _authenticatedUser == null && (_isSecure || !_options.RequireTls))
        {
            capabilities |= SmtpCapabilities.Authentication;
        }
        return capabilities;
    }

    private Next Mail(string argument)
    {
        if (_state == SmtpSessionState.Connected)
        {
            return Bad("503 5.5.1 Send EHLO or HELO first");
        }
        if (_state != SmtpSessionState.Greeted)
        {
            return Bad("503 5.5.1 Nested MAIL command");
        }
        if (_options.RequireTls && !_isSecure)
        {
            return Bad("530 5.7.0 Must issue a STARTTLS command first");
        }
        if (_options.RequireAuthentication && _authenticatedUser == null && _trustedRange == null)
        {
            return Bad("530 5.7.0 Authentication required");
        }
        if (!SmtpPath.TryParse(argument, "FROM:", out SmtpPath path))
        {
            return Bad("501 5.5.4 Syntax: MAIL FROM:<address> [parameters]");
        }
        if (!_isExtended && path.Parameters.Count > 0)
        {
            // Parameters are service extensions, and a HELO client was offered none (RFC 5321 4.1.1.11, 3.2).
            return Bad("555 5.5.4 MAIL parameters need EHLO, not HELO");
        }
        MessageBodyType bodyType = MessageBodyType.Unknown;
        string mailFromAuth = string.Empty;
        bool isUtf8 = false;
        foreach (KeyValuePair<string, string> parameter in path.Parameters)
        {
            switch (parameter.Key)
            {
                case "SIZE":
                    if (!TryParseSize(parameter.Value, out long size))
                    {
                        return Bad("501 5.5.4 Bad SIZE parameter");
                    }
                    if (_context.MaxMessageSize > 0 && size > _context.MaxMessageSize)
                    {
                        _context.Counters.MessageRejected();
                        return Reply("552 5.3.4 Message size exceeds fixed maximum message size");
                    }
                    break;
                case "BODY":
                    switch ((parameter.Value ?? string.Empty).ToUpperInvariant())
                    {
                        case "7BIT": bodyType = MessageBodyType.SevenBit; break;
                        case "8BITMIME": bodyType = MessageBodyType.EightBitMime; break;
                        case "BINARYMIME": bodyType = MessageBodyType.BinaryMime; break;
                        default: return Bad("501 5.5.4 BODY must be 7BIT, 8BITMIME or BINARYMIME");
                    }
                    break;
                case "SMTPUTF8":
                    isUtf8 = true;
                    break;
                case "AUTH":
                    // Normalised to valid xtext as E-MailRelay does: its envelope reader refuses anything else.
                    mailFromAuth = XText.Encode(XText.Decode(parameter.Value));
                    break;
                default:
                    return Bad("555 5.5.4 Unsupported MAIL parameter " + parameter.Key);
            }
        }
        if (!isUtf8 && !IsAscii(path.Address))
        {
            return Reply(NonAsciiAddress);
        }
        _from = path.Address;
        // SMTPUTF8 implies 8-bit content (RFC 6531 section 3.1), as E-MailRelay records it.
        _bodyType = bodyType == MessageBodyType.Unknown && isUtf8 ? MessageBodyType.EightBitMime : bodyType;
        _mailFromAuth = mailFromAuth;
        _isUtf8 = isUtf8;
        _state = SmtpSessionState.Mail;
        return Reply("250 2.1.0 OK");
    }

    private Next Recipient(string argument)
    {
        if (_state != SmtpSessionState.Mail && _state != SmtpSessionState.Rcpt)
        {
            return Bad("503 5.5.1 Send MAIL first");
        }
        if (!SmtpPath.TryParse(argument, "TO:", out SmtpPath path) || path.Address.Length == 0)
        {
            return Bad("501 5.5.4 Syntax: RCPT TO:<address>");
        }
        if (path.Parameters.Count > 0)
        {
            return Bad("555 5.5.4 Unsupported RCPT parameter " + path.Parameters[0].Key);
        }
        if (!_isUtf8 && !IsAscii(path.Address))
        {
            return Reply(NonAsciiAddress);
        }
        if (_recipients.Count >= _options.MaxRecipients)
        {
            return Reply("452 4.5.3 Too many recipients");
        }
        _recipients.Add(path.Address);
        _state = SmtpSessionState.Rcpt;
        return Reply("250 2.1.5 OK");
    }

    private Next Data(ReadOnlySpan<byte> argument)
    {
        if (_state != SmtpSessionState.Rcpt)
        {
            return Bad(_state == SmtpSessionState.Mail ? "503 5.5.1 No valid recipients" : "503 5.5.1 Send MAIL and RCPT first");
        }
        if (argument.Length > 0)
        {
            return Bad("501 5.5.4 DATA takes no parameters");
        }
        if (_bodyType == MessageBodyType.BinaryMime)
        {
            return Bad("503 5.5.1 BODY=BINARYMIME needs BDAT, not DATA");
        }
        return Next.ReceiveData;
    }

    private Next Bdat(string argument)
    {
        string[] words = argument.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 1 || words.Length > 2 ||
            !long.TryParse(words[0], NumberStyles.None, CultureInfo.InvariantCulture, out long size) ||
            (words.Length == 2 && !string.Equals(words[1], "LAST", StringComparison.OrdinalIgnoreCase)))
        {
            // Without a size the chunk cannot be skipped, so the stream is out of step: close.
            Reply("501 5.5.4 Syntax: BDAT <size> [LAST]");
            return Next.Close;
        }
        _chunkRemaining = size;
        _isLastChunk = words.Length == 2;
        return Next.ReceiveChunk;
    }

    private Next StartTls(ReadOnlySpan<byte> argument)
    {
        if (_context.Certificate == null)
        {
            return Bad("502 5.5.1 STARTTLS not available");
        }
        if (_isSecure)
        {
            return Bad("503 5.5.1 TLS already active");
        }
        if (argument.Length > 0)
        {
            return Bad("501 5.5.4 STARTTLS takes no parameters");
        }
        if (_state != SmtpSessionState.Connected && _state != SmtpSessionState.Greeted)
        {
            return Bad("503 5.5.1 STARTTLS inside a mail transaction");
        }
        Reply("220 2.0.0 Ready to start TLS");
        return Next.StartTls;
    }

    private Next Reply(string line)
    {
        if (_context.IsLogging(RelayLogLevel.Debug))
        {
            _context.Log(RelayLogLevel.Debug, ClientText + " S: " + line);
        }
        _output.Write(line);
        return Next.Continue;
    }

    /// <summary>Replies to a bad command, or drops a client that has sent too many (421).</summary>
    private Next Bad(string line)
    {
        if (++_badCommands > _options.MaxBadCommands)
        {
            _context.Log(RelayLogLevel.Warning, ClientText + ": too many bad commands, disconnecting");
            Reply("421 4.7.0 " + _context.Domain + " Too many bad commands, closing connection");
            return Next.Close;
        }
        return Reply(line);
    }

    private void ResetTransaction()
    {
        AbandonMessage();
        _from = null;
        _recipients.Clear();
        _bodyType = MessageBodyType.Unknown;
        _mailFromAuth = string.Empty;
        _isUtf8 = false;
        if (_state > SmtpSessionState.Greeted)
        {
            _state = SmtpSessionState.Greeted;
        }
    }

    private async Task SayGoodbyeAsync(string line)
    {
        // The session's own deadline may be spent: give the goodbye a short one of its own.
        using var goodbye = new CancellationTokenSource(s_closeGrace);
        try
        {
            Reply(line);
            await _output.FlushAsync(_stream, goodbye.Token).ConfigureAwait(false);
        }
        catch (Exception error) when (error is IOException || error is SocketException || error is ObjectDisposedException || error is OperationCanceledException ||
            error is InvalidOperationException || error is NotSupportedException)
        {
            // A TLS stream whose read was cancelled may refuse further writes: the goodbye is best effort.
            _context.Log(RelayLogLevel.Debug, ClientText + ": could not say goodbye: " + error.Message);
        }
    }

    private void CancelDeadline()
    {
        try
        {
            _deadline.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The session has already finished.
        }
    }

    private void CloseAfterGrace() => _ = Task.Delay(s_closeGrace).ContinueWith(_ => CloseSocket(), TaskScheduler.Default);

    /// <summary>Closes the socket from any thread; the session's own buffers are released only by the session.</summary>
    private void CloseSocket() => _socket.Dispose();

    /// <summary>Reads SIZE's digits; a number too big for a long is still a size, just over any limit (RFC 1870 section 6).</summary>
    private static bool TryParseSize(string value, out long size)
    {
        size = 0;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }
        foreach (char c in value)
        {
            if (c < '0' || c > '9')
            {
                return false;
            }
            size = size > (long.MaxValue - 9) / 10 ? long.MaxValue : size * 10 + (c - '0');
        }
        return true;
    }

    private static bool IsAscii(string text)
    {
        foreach (char c in text)
        {
            if (c >= 0x80)
            {
                return false;
            }
        }
        return true;
    }

    private static bool HasControlCharacters(ReadOnlySpan<byte> line)
    {
        foreach (byte b in line)
        {
            if (b >= 0x80)
            {
                return HasNonAsciiControlCharacters(line);
            }
            if ((b < 0x20 && b != (byte)'\t') || b == 0x7f)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The rare non-ASCII line: C1 controls (NEL) and U+2028/U+2029 are line breaks to some envelope
    /// and header readers, and bytes that are not UTF-8 would be silently turned into U+FFFD.
    /// </summary>
    private static bool HasNonAsciiControlCharacters(ReadOnlySpan<byte> line)
    {
        string text;
        try
        {
            text = s_strictUtf8.GetString(line.ToArray());
        }
        catch (DecoderFallbackException)
        {
            return true;
        }
        foreach (char c in text)
        {
            if ((char.IsControl(c) && c != '\t') || c == '\u2028' || c == '\u2029')
            {
                return true;
            }
        }
        return false;
    }

    private static string Decode(ReadOnlySpan<byte> bytes) => bytes.Length == 0 ? string.Empty : s_utf8.GetString(bytes.ToArray());

    private static string RedactAuth(ReadOnlySpan<byte> line)
    {
        string text = Decode(line);
        int second = text.IndexOf(' ', Math.Min(text.Length, 5));
        return second < 0 ? text : text.Substring(0, second) + " ****";
    }
}
