// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.Net;
using RelayCore.OAuth;

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

    // The token providers of the OAuth parameters: disposed with the cmdlet unless a server took them over.
    private OAuthProviders _oauthProviders;

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

    /// <summary>A stored OAuth2 account file (New-RelayOAuthAccount -Path) for XOAUTH2: the account of messages without a ClientAccountSelector.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string OAuthAccountPath { get; set; }

    /// <summary>An OAuth2 account object (New-RelayOAuthAccount, Get-RelayOAuthAccount) for XOAUTH2: the account of messages without a ClientAccountSelector.</summary>
    [Parameter]
    [ValidateNotNull]
    public RelayOAuthAccount OAuthAccount { get; set; }

    /// <summary>OAuth2 accounts by the envelope's ClientAccountSelector: each key a selector, each value an account file path or an account object.</summary>
    [Parameter]
    [ValidateNotNull]
    public Hashtable OAuthAccountBySelector { get; set; }

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
        options.OAuthAccounts = BuildOAuthAccounts(options);
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

    /// <summary>Hands the token providers of the OAuth parameters to an owner that outlives the cmdlet (a running server).</summary>
    /// <returns>The providers to dispose when the owner is done with them; null when there are none.</returns>
    private protected IDisposable DetachOAuthProviders()
    {
        OAuthProviders providers = _oauthProviders;
        _oauthProviders = null;
        return providers;
    }

    /// <summary>Releases the queue of pending writes and the token providers still owned.</summary>
    /// <param name="disposing">True when called from Dispose.</param>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            PipelineQueue.Dispose();
            _oauthProviders?.Dispose();
            _oauthProviders = null;
        }
        base.Dispose(disposing);
    }

    private OAuthAccountSet BuildOAuthAccounts(ForwardingOptions options)
    {
        if (OAuthAccountPath == null && OAuthAccount == null && OAuthAccountBySelector == null)
        {
            return null;
        }
        if (OAuthAccountPath != null && OAuthAccount != null)
        {
            ThrowTerminatingError(ErrorMapping.InvalidForwardingParameters(
                "-OAuthAccountPath and -OAuthAccount both name the account for messages without a selector: give one of them.", nameof(OAuthAccount)));
        }
        if (OAuthToken != null && (OAuthAccountPath != null || OAuthAccount != null))
        {
            ThrowTerminatingError(ErrorMapping.InvalidForwardingParameters(
                "-OAuthToken is a static token for messages without a selector, and so is the account of -OAuthAccountPath or -OAuthAccount: give one of them.", nameof(OAuthToken)));
        }
        // Through the options, so that a server's log (set after this) gets what the providers report.
        Action<RelayLogLevel, string> log = (level, line) => options.Log?.Invoke(level, line);
        // Test-RelayConnection builds options once per piped next hop; the previous probe is over.
        _oauthProviders?.Dispose();
        _oauthProviders = new OAuthProviders();
        IAccessTokenProvider defaultProvider = null;
        if (OAuthAccountPath != null || OAuthAccount != null)
        {
            defaultProvider = AddProvider((object)OAuthAccountPath ?? OAuthAccount, OAuthAccountPath != null ? nameof(OAuthAccountPath) : nameof(OAuthAccount), log);
            WriteVerbose("OAuth2 account for messages without a ClientAccountSelector: " + defaultProvider.Description + ".");
        }
        var bySelector = new List<KeyValuePair<string, IAccessTokenProvider>>();
        foreach (DictionaryEntry entry in OAuthAccountBySelector ?? new Hashtable())
        {
            string selector = LanguagePrimitives.ConvertTo<string>(entry.Key);
            if (string.IsNullOrEmpty(selector) || bySelector.Any(pair => pair.Key == selector))
            {
                ThrowTerminatingError(ErrorMapping.InvalidForwardingParameters(
                    "-OAuthAccountBySelector needs distinct, non-empty selectors: the account for messages without one is -OAuthAccountPath or -OAuthAccount.", nameof(OAuthAccountBySelector)));
            }
            IAccessTokenProvider provider = AddProvider(entry.Value, nameof(OAuthAccountBySelector), log);
            WriteVerbose("OAuth2 account for ClientAccountSelector '" + selector + "': " + provider.Description + ".");
            bySelector.Add(new KeyValuePair<string, IAccessTokenProvider>(selector, provider));
        }
        return _oauthProviders.Complete(defaultProvider, bySelector);
    }

    /// <summary>Reads an account (a file path, or an account object) and makes its provider; a terminating error when it cannot.</summary>
    private IAccessTokenProvider AddProvider(object value, string parameterName, Action<RelayLogLevel, string> log)
    {
        object account = value is PSObject wrapped ? wrapped.BaseObject : value;
        string path = account is string text ? ResolveExistingFile(text, ErrorMapping.OAuthAccountNotFound) : (account as RelayOAuthAccount)?.Path;
        if (path == null && !(account is RelayOAuthAccount))
        {
            ThrowTerminatingError(ErrorMapping.InvalidForwardingParameters(
                "-" + parameterName + " takes account file paths or accounts from New-RelayOAuthAccount or Get-RelayOAuthAccount, not " + (account?.GetType().Name ?? "null") + ".", parameterName));
        }
        try
        {
            // A stored account is read again: a rotated refresh token or a replaced secret applies at once.
            return _oauthProviders.Add(path != null ? RelayCore.OAuth.OAuthAccount.Load(path) : ((RelayOAuthAccount)account).Account, log);
        }
        catch (Exception error) when (ErrorMapping.TryMapOAuthAccount(error, (object)path ?? account) is ErrorRecord record)
        {
            ThrowTerminatingError(record);
            throw;
        }
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
