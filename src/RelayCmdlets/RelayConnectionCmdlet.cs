// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security;
using RelayCore.Forwarding;
using RelayCore.Net;

namespace RelayCmdlets;

/// <summary>
/// The base of the cmdlets that connect to a next hop (Test-RelayConnection, and through
/// <see cref="RelayForwardingCmdlet"/> Invoke-RelayForward and Start-RelayServer): how to reach and log
/// in to it (E-MailRelay's client options and the Email Redirector's POP-before-SMTP), declared once,
/// and the one place that turns them into <see cref="ForwardingOptions"/>.
/// </summary>
/// <remarks>
/// Parameters that could be confused with a server's own (secrets file, TLS, certificate) carry the
/// <c>Client</c> prefix, as E-MailRelay's <c>--client-auth</c> and <c>--client-tls</c> do, so they read
/// the same on Start-RelayServer as on the client cmdlets.
/// </remarks>
public abstract class RelayConnectionCmdlet : RelayCmdlet
{
    private const int PopPort = 110;
    private const int PopsPort = 995;

    private static readonly string[] s_popParameters =
    {
        nameof(PopServer), nameof(PopCredential), nameof(PopDelay), nameof(PopTls), nameof(Apop),
    };

    /// <summary>Carries engine callbacks (log lines, results) to the pipeline thread.</summary>
    private protected PipelineThreadQueue PipelineQueue { get; } = new PipelineThreadQueue();

    /// <summary>The account to log in to the next hop as (SMTP AUTH); instead of a client secrets file.</summary>
    [Parameter]
    [ValidateNotNull]
    [Credential]
    public PSCredential Credential { get; set; }

    /// <summary>An E-MailRelay secrets file whose <c>client</c> lines are the forwarding accounts.</summary>
    [Parameter]
    [Alias("SecretsPath")]
    [ValidateNotNullOrEmpty]
    public string ClientSecretsPath { get; set; }

    /// <summary>A static OAuth 2.0 bearer token for XOAUTH2, with the user name of <see cref="Credential"/> or the secrets file.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString OAuthToken { get; set; }

    /// <summary>SASL mechanisms to use, in order of preference; the strongest offered first when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateSet("XOAUTH2", "CRAM-MD5", "PLAIN", "LOGIN")]
    public string[] AuthMechanism { get; set; }

    /// <summary>SASL mechanisms never to use, whatever the next hop offers.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateSet("XOAUTH2", "CRAM-MD5", "PLAIN", "LOGIN")]
    public string[] AvoidAuthMechanism { get; set; }

    /// <summary>TLS towards the next hop: STARTTLS when offered (the default), none, STARTTLS required, or implicit TLS.</summary>
    [Parameter]
    [Alias("Tls")]
    public ClientTlsMode ClientTls { get; set; } = ClientTlsMode.StartTlsWhenOffered;

    /// <summary>A PEM file of CA certificates to trust for the next hop's certificate, besides the system store.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string CertificateAuthorityPath { get; set; }

    /// <summary>The name sent as SNI and checked against the next hop's certificate; the next hop's host by default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string TlsServerName { get; set; }

    /// <summary>Accepts any certificate from the next hop (logged as a warning); for testing only.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>A client certificate (PEM or PFX) to present to the next hop.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ClientCertificatePath { get; set; }

    /// <summary>The PEM key file of the client certificate, when separate.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ClientCertificateKeyPath { get; set; }

    /// <summary>The password of the client certificate's PFX file or encrypted key.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString ClientCertificatePassword { get; set; }

    /// <summary>The protocol spoken to a SOCKS proxy named in a next hop (<c>host:port@socks-host:socks-port</c>).</summary>
    [Parameter]
    public SocksProtocol SocksProtocol { get; set; }

    /// <summary>The longest wait for a TCP (and SOCKS) connection.</summary>
    [Parameter]
    [ValidateTimeSpanRange(0.001, 3600)]
    public TimeSpan ConnectTimeout { get; set; }

    /// <summary>The longest wait for any one reply of the next hop.</summary>
    [Parameter]
    [ValidateTimeSpanRange(0.001, 3600)]
    public TimeSpan ResponseTimeout { get; set; }

    /// <summary>The domain named in EHLO; this machine's name by default.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string HeloDomain { get; set; }

    /// <summary>The local address to connect from.</summary>
    [Parameter]
    [ValidateNotNull]
    public IPAddress LocalAddress { get; set; }

    /// <summary>Logs in to a POP3 server before each SMTP session, then waits -PopDelay (POP-before-SMTP).</summary>
    [Parameter]
    public SwitchParameter PopBeforeSmtp { get; set; }

    /// <summary>The POP3 server, <c>host:port</c>; the next hop's host on port 110 (995 with -PopTls Implicit) by default.</summary>
    [Parameter]
    [ValidateNotNull]
    public NextHopAddress PopServer { get; set; }

    /// <summary>The POP3 account; the forwarding account by default.</summary>
    [Parameter]
    [ValidateNotNull]
    [Credential]
    public PSCredential PopCredential { get; set; }

    /// <summary>How long to wait after the POP3 session before connecting to SMTP.</summary>
    [Parameter]
    [ValidateTimeSpanRange(0, 3600)]
    public TimeSpan PopDelay { get; set; }

    /// <summary>TLS to the POP3 server: none (the default), STLS when offered, STLS required, or implicit (POP3S).</summary>
    [Parameter]
    public ClientTlsMode PopTls { get; set; } = ClientTlsMode.None;

    /// <summary>Logs in to the POP3 server with APOP instead of USER/PASS.</summary>
    [Parameter]
    public SwitchParameter Apop { get; set; }

    /// <summary>
    /// Builds the forwarding options from the bound parameters; a terminating error when a file does
    /// not exist or the parameters contradict each other. Unbound parameters keep the engine's defaults.
    /// </summary>
    /// <remarks>The engine's log lines are posted to <see cref="PipelineQueue"/>, written at the stream of their level.</remarks>
    /// <param name="nextHop">The default next hop.</param>
    /// <returns>The options.</returns>
    protected virtual ForwardingOptions BuildForwardingOptions(NextHopAddress nextHop)
    {
        var options = new ForwardingOptions
        {
            NextHop = nextHop,
            ClientSecretsPath = ResolveExistingFile(ClientSecretsPath, ErrorMapping.SecretsFileNotFound),
            Credential = Credential?.GetNetworkCredential(),
            OAuthToken = OAuthToken,
            CaFilePath = ResolveExistingFile(CertificateAuthorityPath, ErrorMapping.CertificateNotFound),
            TlsServerName = TlsServerName,
            SkipCertificateValidation = SkipCertificateCheck,
            ClientCertificatePath = ResolveExistingFile(ClientCertificatePath, ErrorMapping.CertificateNotFound),
            ClientCertificateKeyPath = ResolveExistingFile(ClientCertificateKeyPath, ErrorMapping.CertificateNotFound),
            ClientCertificatePassword = ClientCertificatePassword,
            HeloDomain = HeloDomain,
            LocalAddress = LocalAddress,
            PopBeforeSmtp = BuildPopBeforeSmtp(nextHop),
            Log = (level, line) => PipelineQueue.Post(() => WriteLogLine(level, line, "RelayForwardingError", nextHop)),
            LogLevel = LeastLevelShown(),
        };
        foreach (string mechanism in AuthMechanism ?? Array.Empty<string>())
        {
            options.AuthMechanisms.Add(mechanism.ToUpperInvariant());
        }
        foreach (string mechanism in AvoidAuthMechanism ?? Array.Empty<string>())
        {
            options.AvoidAuthMechanisms.Add(mechanism.ToUpperInvariant());
        }
        if (IsBound(nameof(ClientTls)))
        {
            options.Tls = ClientTls;
        }
        if (IsBound(nameof(SocksProtocol)))
        {
            options.SocksProtocol = SocksProtocol;
        }
        if (IsBound(nameof(ConnectTimeout)))
        {
            options.ConnectTimeout = ConnectTimeout;
        }
        if (IsBound(nameof(ResponseTimeout)))
        {
            options.ResponseTimeout = ResponseTimeout;
        }
        return options;
    }

    /// <summary>Releases the queue of pending writes.</summary>
    /// <param name="disposing">True when called from Dispose.</param>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            PipelineQueue.Dispose();
        }
        base.Dispose(disposing);
    }

    private PopBeforeSmtpOptions BuildPopBeforeSmtp(NextHopAddress nextHop)
    {
        if (!PopBeforeSmtp)
        {
            string stray = s_popParameters.FirstOrDefault(IsBound);
            if (stray != null)
            {
                ThrowTerminatingError(ErrorMapping.InvalidForwardingParameters("-" + stray + " applies to POP-before-SMTP: give -PopBeforeSmtp too.", stray));
            }
            return null;
        }
        var pop = new PopBeforeSmtpOptions
        {
            Server = PopServer ?? NextHopAddress.Parse(
                FormatHost(nextHop.Host) + ":" + (PopTls == ClientTlsMode.Implicit ? PopsPort : PopPort).ToString(CultureInfo.InvariantCulture)),
            Credential = PopCredential?.GetNetworkCredential(),
            UseApop = Apop,
        };
        if (IsBound(nameof(PopTls)))
        {
            pop.Tls = PopTls;
        }
        if (IsBound(nameof(PopDelay)))
        {
            pop.Delay = PopDelay;
        }
        return pop;
    }

    private static string FormatHost(string host) => host.IndexOf(':') >= 0 ? "[" + host + "]" : host;
}
