// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Net.Security;
using System.Threading;
using System.Threading.Tasks;
using MailKit.Net.Smtp;
using RelayCore.Net;

namespace RelayCore.Forwarding;

/// <summary>
/// MailKit's SMTP client as the forwarding agent uses it: opened by <see cref="NextHopConnector"/>
/// (connection, SOCKS, TLS, EHLO, AUTH), with what was learnt on the way kept for logs and the probe.
/// </summary>
/// <remarks>
/// The message transfer half of this class is in RelaySmtpClient.Transfer.cs, and Relay's own pipelined
/// transaction, used on the connections whose bytes it can reach, in RelaySmtpClient.Pipelining.cs.
/// </remarks>
internal sealed partial class RelaySmtpClient : SmtpClient
{
    private Stream _plainStream;
    private SslStream _tls;
    private IDisposable _connection;
    private bool _isClosed;
    private bool _isAbandoned;

    internal RelaySmtpClient(NextHopAddress nextHop, ProtocolTranscript transcript)
        : base(transcript)
    {
        NextHop = nextHop;
        Transcript = transcript;
    }

    /// <summary>The next hop this client is connected to.</summary>
    internal NextHopAddress NextHop { get; }

    /// <summary>The protocol log of this session (lines kept while it was opened).</summary>
    internal ProtocolTranscript Transcript { get; }

    /// <summary>The certificate the next hop presented, when TLS was used.</summary>
    internal ServerCertificateInfo ServerCertificate { get; set; }

    /// <summary>The user the session is authenticated as; null when it sent no AUTH.</summary>
    internal string AuthenticatedAs { get; set; }

    /// <summary>The SASL mechanism used; null when it sent no AUTH.</summary>
    internal string AuthenticationMechanism { get; set; }

    /// <summary>Whether this side closed the connection on purpose, to abandon a transaction it must not complete (the next hop did not drop it).</summary>
    internal bool IsAbandoned => _isAbandoned;

    /// <inheritdoc/>
    public override bool IsConnected => !_isClosed && base.IsConnected;

    /// <inheritdoc/>
    /// <remarks>Relay negotiates TLS itself and hands MailKit the TLS stream, so MailKit alone would say no.</remarks>
    public override bool IsSecure => _tls != null;

    /// <summary>The TLS protocol of the session, e.g. <c>Tls13</c>; null without TLS.</summary>
    internal string TlsProtocol => _tls?.SslProtocol.ToString();

    /// <summary>The negotiated cipher suite (the cipher and its strength where the platform cannot name the suite); null without TLS.</summary>
    internal string TlsCipher
    {
        get
        {
            if (_tls == null)
            {
                return null;
            }
#if NET
            return _tls.NegotiatedCipherSuite.ToString();
#else
            return _tls.CipherAlgorithm + " " + _tls.CipherStrength;
#endif
        }
    }

    /// <summary>
    /// Hands the client the plaintext side of the connection MailKit talks over (the connection itself,
    /// or Relay's TLS stream over it): the pipelined transaction reads and writes it directly, between MailKit's commands.
    /// </summary>
    /// <param name="plainStream">A stream over the same bytes MailKit reads and writes.</param>
    /// <param name="connection">What closes the connection (the socket, or the SOCKS stream).</param>
    internal void UsePlainConnection(Stream plainStream, IDisposable connection)
    {
        _plainStream = plainStream;
        _connection = connection;
    }

    /// <summary>Notes the TLS stream Relay negotiated for this session.</summary>
    internal void UseTls(SslStream tls) => _tls = tls;

    /// <summary>Sends STARTTLS (RFC 3207) and returns the next hop's reply; the caller starts TLS on a 220.</summary>
    internal Task<SmtpResponse> StartTlsAsync(CancellationToken cancellationToken) => SendCommandAsync("STARTTLS", cancellationToken);

    /// <summary>Closes the connection without another byte (after which the client is not connected).</summary>
    /// <param name="abandoned">
    /// True when it is closed to abandon a transaction that must not complete: the next hop drops a
    /// transaction whose data never ended (RFC 5321 section 3.8), and nothing is wrong with the next hop.
    /// </param>
    internal void Close(bool abandoned)
    {
        _isAbandoned |= abandoned;
        _isClosed = true;
        _connection?.Dispose();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _plainStream?.Dispose();
            DisposePipelining();
        }
        base.Dispose(disposing);
    }
}
