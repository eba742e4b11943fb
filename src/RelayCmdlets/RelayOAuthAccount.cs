// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using RelayCore.OAuth;

namespace RelayCmdlets;

/// <summary>
/// An OAuth2 account as PowerShell shows it: what New-RelayOAuthAccount and Get-RelayOAuthAccount emit and
/// the forwarding cmdlets' <c>-OAuthAccount</c> takes. It shows who sends and through which app, never a secret.
/// </summary>
/// <remarks>
/// The secrets stay in the engine's account object, which is not a public member: formatting, Select-Object,
/// Export-Clixml and ConvertTo-Json see the properties below only.
/// </remarks>
public sealed class RelayOAuthAccount
{
    internal RelayOAuthAccount(OAuthAccount account, string path)
    {
        Account = account;
        Path = path;
        if (path != null)
        {
            var file = new FileInfo(path);
            LastWriteTime = file.LastWriteTime;
            UnixMode = AccountFileMode.Describe(path);
        }
    }

    /// <summary>Where the tokens come from: Microsoft365, RefreshToken or Static.</summary>
    public OAuthProviderKind Provider => Account.Kind;

    /// <summary>The mailbox sent as: the XOAUTH2 user.</summary>
    public string UserName => Account.Kind switch
    {
        OAuthProviderKind.Microsoft365 => Account.Microsoft365?.Mailbox,
        OAuthProviderKind.RefreshToken => Account.RefreshToken?.UserName,
        _ => Account.StaticUserName,
    };

    /// <summary>How the account proves itself to the token endpoint; the secret itself is never shown.</summary>
    public RelayOAuthCredentialType CredentialType => Account.Kind switch
    {
        OAuthProviderKind.Microsoft365 when Account.Microsoft365?.ClientSecret != null => RelayOAuthCredentialType.ClientSecret,
        OAuthProviderKind.Microsoft365 when !string.IsNullOrEmpty(Account.Microsoft365?.CertificatePath) => RelayOAuthCredentialType.CertificateFile,
        OAuthProviderKind.Microsoft365 => RelayOAuthCredentialType.CertificateThumbprint,
        OAuthProviderKind.RefreshToken => RelayOAuthCredentialType.RefreshToken,
        _ => RelayOAuthCredentialType.StaticToken,
    };

    /// <summary>The Entra ID tenant (Microsoft365).</summary>
    public string TenantId => Account.Microsoft365?.TenantId;

    /// <summary>The application (client) id (Microsoft365, RefreshToken).</summary>
    public string ClientId => Account.Microsoft365?.ClientId ?? Account.RefreshToken?.ClientId;

    /// <summary>The Microsoft cloud (Microsoft365); null for the other providers.</summary>
    public MicrosoftCloud? Cloud => Account.Microsoft365?.Cloud;

    /// <summary>An explicit sign-in authority (Microsoft365); null for the cloud's own.</summary>
    public Uri Authority => Account.Microsoft365?.Authority;

    /// <summary>The token endpoint (RefreshToken).</summary>
    public Uri TokenEndpoint => Account.RefreshToken?.TokenEndpoint;

    /// <summary>The scope asked for; null for the scope a refresh token was granted.</summary>
    public string Scope => Account.Microsoft365?.Scope ?? Account.RefreshToken?.Scope;

    /// <summary>The certificate file (Microsoft365 with a certificate file).</summary>
    public string CertificatePath => Account.Microsoft365?.CertificatePath;

    /// <summary>The certificate's thumbprint in the Windows certificate store (Microsoft365 with a thumbprint).</summary>
    public string CertificateThumbprint => Account.Microsoft365?.CertificateThumbprint;

    /// <summary>The account file's full path; null for an account kept in memory only.</summary>
    public string Path { get; }

    /// <summary>When the account file was last written (a rotated refresh token writes it too); null in memory.</summary>
    public DateTime? LastWriteTime { get; }

    /// <summary>The file's permissions as <c>ls -l</c> shows them (Unix), e.g. <c>-rw-------</c>; null on Windows, where DPAPI protects the secrets.</summary>
    public string UnixMode { get; }

    /// <summary>The engine's account, with its secrets: not a public member, so PowerShell never shows or serializes it.</summary>
    internal OAuthAccount Account { get; }

    /// <summary>The provider, the user and the file: never a secret.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Provider + " account " + UserName + (Path != null ? " (" + Path + ")" : " (in memory)");
}
