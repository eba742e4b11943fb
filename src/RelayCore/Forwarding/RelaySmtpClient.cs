// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using MailKit.Net.Smtp;
using RelayCore.Net;

namespace RelayCore.Forwarding;

/// <summary>
/// MailKit's SMTP client as the forwarding agent uses it: opened by <see cref="NextHopConnector"/>
/// (connection, SOCKS, TLS, EHLO, AUTH), with what was learnt on the way kept for logs and the probe.
/// </summary>
/// <remarks>The message transfer half of this class is in RelaySmtpClient.Transfer.cs.</remarks>
internal sealed partial class RelaySmtpClient : SmtpClient
{
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

    /// <summary>The TLS protocol of the session, e.g. <c>Tls13</c>; null without TLS.</summary>
    internal string TlsProtocol => IsSecure ? SslProtocol.ToString() : null;

    /// <summary>The negotiated cipher suite (the cipher and its strength where the platform cannot name the suite); null without TLS.</summary>
    internal string TlsCipher
    {
        get
        {
            if (!IsSecure)
            {
                return null;
            }
#if NET
            return SslCipherSuite?.ToString();
#else
            return SslCipherAlgorithm + " " + SslCipherStrength;
#endif
        }
    }
}
