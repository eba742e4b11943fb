// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Net.Http;
using System.Security;

namespace RelayCore.OAuth;

/// <summary>
/// A Microsoft 365 application that sends without a person (OAuth2 client credentials, RFC 6749 section 4.4):
/// an Entra ID app registration with the SMTP.SendAsApp application permission.
/// </summary>
public sealed class Microsoft365Options
{
    /// <summary>The scope Exchange Online grants SMTP with (the worldwide cloud).</summary>
    public const string DefaultScope = "https://outlook.office365.com/.default";

    private string _scope;

    /// <summary>The directory (tenant) id: a GUID or the tenant's domain, e.g. contoso.onmicrosoft.com.</summary>
    public string TenantId { get; set; }

    /// <summary>The application (client) id of the app registration.</summary>
    public string ClientId { get; set; }

    /// <summary>A client secret of the app registration; null when a certificate is used.</summary>
    public SecureString ClientSecret { get; set; }

    /// <summary>A certificate file (PFX, or PEM with its key) whose public part is uploaded to the app registration.</summary>
    public string CertificatePath { get; set; }

    /// <summary>The PFX password, or the password of the PEM file's encrypted key.</summary>
    public SecureString CertificatePassword { get; set; }

    /// <summary>The thumbprint of a certificate in the current user's (then the machine's) personal store (Windows: Cert:\CurrentUser\My).</summary>
    public string CertificateThumbprint { get; set; }

    /// <summary>The cloud the tenant lives in; ignored when <see cref="Authority"/> is set.</summary>
    public MicrosoftCloud Cloud { get; set; } = MicrosoftCloud.Worldwide;

    /// <summary>
    /// An explicit authority URL (e.g. https://login.microsoftonline.com/contoso.onmicrosoft.com), used as given:
    /// no authority validation and no instance discovery.
    /// </summary>
    public Uri Authority { get; set; }

    /// <summary>The mailbox sent as: the XOAUTH2 user.</summary>
    public string Mailbox { get; set; }

    /// <summary>The scope asked for; unless set, Exchange Online's in <see cref="Cloud"/> (<see cref="ScopeFor"/>).</summary>
    public string Scope
    {
        get => _scope ?? ScopeFor(Cloud);
        set => _scope = value;
    }

    /// <summary>The scope of Exchange Online in a cloud: each cloud's Exchange is a resource of its own, so another cloud's scope is refused.</summary>
    /// <param name="cloud">The cloud.</param>
    /// <returns>For example <c>https://outlook.office365.us/.default</c> for US Government (GCC High).</returns>
    public static string ScopeFor(MicrosoftCloud cloud) => cloud switch
    {
        MicrosoftCloud.UsGovernment => "https://outlook.office365.us/.default",
        MicrosoftCloud.China => "https://partner.outlook.cn/.default",
        _ => DefaultScope,
    };

    /// <summary>The HTTP client for the token endpoint (a proxy, or a private CA); MSAL's own when null.</summary>
    public HttpClient HttpClient { get; set; }
}
