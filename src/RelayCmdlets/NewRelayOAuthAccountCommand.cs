// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Management.Automation;
using System.Security;
using RelayCore.OAuth;

namespace RelayCmdlets;

/// <summary>
/// Makes an OAuth2 account for XOAUTH2 forwarding: <c>New-RelayOAuthAccount</c>. With <c>-Path</c> it is stored
/// in a file a scheduled task can use without a person (mode 0600 on Unix, DPAPI-encrypted secrets on Windows);
/// without, it is an object for the forwarding cmdlets' <c>-OAuthAccount</c>.
/// </summary>
/// <remarks>The account's provider is made once before anything is written, so a wrong certificate path or password fails here, not at the first message.</remarks>
[Cmdlet(VerbsCommon.New, "RelayOAuthAccount", DefaultParameterSetName = Microsoft365Secret, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RelayOAuthAccount))]
public sealed class NewRelayOAuthAccountCommand : RelayCmdlet
{
    private const string Microsoft365Secret = "Microsoft365Secret";
    private const string Microsoft365Certificate = "Microsoft365Certificate";
    private const string Microsoft365Thumbprint = "Microsoft365Thumbprint";
    private const string RefreshTokenSet = "RefreshToken";
    private const string StaticSet = "Static";

    /// <summary>Where the tokens come from: Microsoft365 (app-only), RefreshToken (Gmail and other OAuth2 endpoints) or Static.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    public OAuthProviderKind Provider { get; set; }

    /// <summary>The account file to write; without it the account is only returned, for <c>-OAuthAccount</c>.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; }

    /// <summary>Replaces an existing account file.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>The Entra ID directory (tenant) id: a GUID or a domain such as contoso.onmicrosoft.com.</summary>
    [Parameter(ParameterSetName = Microsoft365Secret, Mandatory = true)]
    [Parameter(ParameterSetName = Microsoft365Certificate, Mandatory = true)]
    [Parameter(ParameterSetName = Microsoft365Thumbprint, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string TenantId { get; set; }

    /// <summary>The application (client) id of the app registration or OAuth client.</summary>
    [Parameter(ParameterSetName = Microsoft365Secret, Mandatory = true)]
    [Parameter(ParameterSetName = Microsoft365Certificate, Mandatory = true)]
    [Parameter(ParameterSetName = Microsoft365Thumbprint, Mandatory = true)]
    [Parameter(ParameterSetName = RefreshTokenSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string ClientId { get; set; }

    /// <summary>The client secret's value (Microsoft365); the OAuth client's secret (RefreshToken), omitted for a public client.</summary>
    [Parameter(ParameterSetName = Microsoft365Secret, Mandatory = true)]
    [Parameter(ParameterSetName = RefreshTokenSet)]
    [ValidateNotNull]
    public SecureString ClientSecret { get; set; }

    /// <summary>A certificate file (PFX, or PEM with its key) whose public part is uploaded to the app registration.</summary>
    [Parameter(ParameterSetName = Microsoft365Certificate, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CertificatePath { get; set; }

    /// <summary>The password of the PFX file or of the PEM file's encrypted key.</summary>
    [Parameter(ParameterSetName = Microsoft365Certificate)]
    [ValidateNotNull]
    public SecureString CertificatePassword { get; set; }

    /// <summary>The thumbprint of a certificate with its private key in Cert:\CurrentUser\My or Cert:\LocalMachine\My (Windows).</summary>
    [Parameter(ParameterSetName = Microsoft365Thumbprint, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string CertificateThumbprint { get; set; }

    /// <summary>The mailbox sent as (Microsoft365): the XOAUTH2 user.</summary>
    [Parameter(ParameterSetName = Microsoft365Secret, Mandatory = true)]
    [Parameter(ParameterSetName = Microsoft365Certificate, Mandatory = true)]
    [Parameter(ParameterSetName = Microsoft365Thumbprint, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Mailbox { get; set; }

    /// <summary>The Microsoft cloud the tenant lives in; Worldwide by default.</summary>
    [Parameter(ParameterSetName = Microsoft365Secret)]
    [Parameter(ParameterSetName = Microsoft365Certificate)]
    [Parameter(ParameterSetName = Microsoft365Thumbprint)]
    public MicrosoftCloud Cloud { get; set; } = MicrosoftCloud.Worldwide;

    /// <summary>An explicit sign-in authority URL, used as given (no authority validation, no instance discovery); the cloud's own with the tenant by default.</summary>
    [Parameter(ParameterSetName = Microsoft365Secret)]
    [Parameter(ParameterSetName = Microsoft365Certificate)]
    [Parameter(ParameterSetName = Microsoft365Thumbprint)]
    [ValidateNotNull]
    public Uri Authority { get; set; }

    /// <summary>The scope asked for: Exchange Online's in the -Cloud for Microsoft365 (https://outlook.office365.com/.default worldwide); for RefreshToken, the scope the token was granted when omitted.</summary>
    [Parameter(ParameterSetName = Microsoft365Secret)]
    [Parameter(ParameterSetName = Microsoft365Certificate)]
    [Parameter(ParameterSetName = Microsoft365Thumbprint)]
    [Parameter(ParameterSetName = RefreshTokenSet)]
    [ValidateNotNullOrEmpty]
    public string Scope { get; set; }

    /// <summary>The token endpoint URL (RefreshToken); Google's, https://oauth2.googleapis.com/token, by default.</summary>
    [Parameter(ParameterSetName = RefreshTokenSet)]
    [ValidateNotNull]
    public Uri TokenEndpoint { get; set; }

    /// <summary>The refresh token obtained when the mailbox's owner consented (RefreshToken).</summary>
    [Parameter(ParameterSetName = RefreshTokenSet, Mandatory = true)]
    [ValidateNotNull]
    public SecureString RefreshToken { get; set; }

    /// <summary>The mailbox sent as (RefreshToken): the XOAUTH2 user.</summary>
    [Parameter(ParameterSetName = RefreshTokenSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string UserName { get; set; }

    /// <summary>The XOAUTH2 user as the user name and the access token as the password (Static).</summary>
    [Parameter(ParameterSetName = StaticSet, Mandatory = true)]
    [ValidateNotNull]
    [Credential]
    public PSCredential Credential { get; set; }

    /// <summary>Makes the account, checks that its provider can be made, and writes the file when -Path is given.</summary>
    protected override void ProcessRecord()
    {
        OAuthAccount account = BuildAccount();
        CheckProvider(account);
        if (Path == null)
        {
            WriteObject(new RelayOAuthAccount(account, null));
            return;
        }
        string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
        string directory = System.IO.Path.GetDirectoryName(path);
        if (!Directory.Exists(directory))
        {
            ThrowTerminatingError(ErrorMapping.TryMapOAuthAccount(new DirectoryNotFoundException("The folder '" + directory + "' of the account file does not exist: create it, writable by you only."), directory));
        }
        if (AccountFileMode.IsReplaceableByOthers(directory))
        {
            ThrowTerminatingError(ErrorMapping.OAuthAccountFolderNotPrivate(directory, AccountFileMode.Describe(directory)));
        }
        bool exists = File.Exists(path);
        if (exists && !Force)
        {
            ThrowTerminatingError(ErrorMapping.OAuthAccountExists(path));
        }
        if (!ShouldProcess(path, (exists ? "Replace" : "Create") + " the " + Provider + " OAuth account file for " + new RelayOAuthAccount(account, null).UserName))
        {
            return;
        }
        try
        {
            account.Save(path);
        }
        catch (Exception error) when (ErrorMapping.TryMapOAuthAccount(error, path) is ErrorRecord record)
        {
            ThrowTerminatingError(record);
        }
        WriteVerbose("Wrote the " + Provider + " account to " + path + (AccountFileMode.Describe(path) is string mode ? " (" + mode + ")." : " (secrets encrypted with DPAPI for this user)."));
        WriteObject(new RelayOAuthAccount(account, path));
    }

    private OAuthAccount BuildAccount()
    {
        OAuthProviderKind expected = ParameterSetName == RefreshTokenSet ? OAuthProviderKind.RefreshToken
            : ParameterSetName == StaticSet ? OAuthProviderKind.Static
            : OAuthProviderKind.Microsoft365;
        if (Provider != expected)
        {
            ThrowTerminatingError(ErrorMapping.InvalidOAuthAccountParameters(
                "The parameters given are those of a " + expected + " account, not of -Provider " + Provider + ". " + SettingsOf(Provider), nameof(Provider)));
        }
        var account = new OAuthAccount { Kind = Provider };
        switch (Provider)
        {
            case OAuthProviderKind.Microsoft365:
                account.Microsoft365 = new Microsoft365Options
                {
                    TenantId = TenantId,
                    ClientId = ClientId,
                    ClientSecret = ClientSecret,
                    CertificatePath = CertificatePath == null ? null : ResolveExistingFile(CertificatePath, ErrorMapping.CertificateNotFound),
                    CertificatePassword = CertificatePassword,
                    CertificateThumbprint = CertificateThumbprint,
                    Cloud = Cloud,
                    Authority = Authority,
                    Mailbox = Mailbox,
                    Scope = Scope,
                };
                break;
            case OAuthProviderKind.RefreshToken:
                account.RefreshToken = new RefreshTokenOptions
                {
                    TokenEndpoint = TokenEndpoint ?? RefreshTokenOptions.GoogleTokenEndpoint,
                    ClientId = ClientId,
                    ClientSecret = ClientSecret,
                    RefreshToken = RefreshToken,
                    UserName = UserName,
                    Scope = Scope,
                };
                break;
            default:
                account.StaticUserName = Credential.UserName;
                account.StaticToken = Credential.Password;
                break;
        }
        return account;
    }

    /// <summary>Makes the provider once (no network: MSAL and the HTTP client are only set up), so bad settings fail now.</summary>
    private void CheckProvider(OAuthAccount account)
    {
        try
        {
            (account.CreateProvider(null) as IDisposable)?.Dispose();
        }
        catch (Exception error) when (ErrorMapping.TryMapOAuthAccount(error, Path ?? (object)Provider.ToString()) is ErrorRecord record)
        {
            ThrowTerminatingError(record);
        }
    }

    private static string SettingsOf(OAuthProviderKind provider) => provider switch
    {
        OAuthProviderKind.Microsoft365 => "Microsoft365 takes -TenantId, -ClientId, -Mailbox and one of -ClientSecret, -CertificatePath or -CertificateThumbprint.",
        OAuthProviderKind.RefreshToken => "RefreshToken takes -ClientId, -RefreshToken, -UserName, and -ClientSecret and -TokenEndpoint where the provider needs them.",
        _ => "Static takes -Credential: the mailbox as user name and the access token as password.",
    };
}
