// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using RelayCore.OAuth;

namespace RelayCore.Forwarding;

/// <summary>
/// The token step of a connection probe with an OAuth2 account: the provider, the token it gave (user,
/// expiry, roles and scopes, never the token itself) or the endpoint's error and what to fix, and what
/// the next hop answered to XOAUTH2 with it.
/// </summary>
public sealed class ConnectionProbeToken
{
    /// <summary>The application permission Exchange Online requires of an app-only token for SMTP.</summary>
    public const string SendAsAppRole = "SMTP.SendAsApp";

    /// <summary>The delegated scope Exchange Online accepts instead, in a token a person consented to.</summary>
    public const string SendScope = "SMTP.Send";

    internal ConnectionProbeToken()
    {
    }

    /// <summary>The provider, as it describes itself (kind, account, endpoint); never a secret.</summary>
    public string Provider { get; internal set; } = string.Empty;

    /// <summary>Whether a token was had from the provider.</summary>
    public bool Acquired { get; internal set; }

    /// <summary>How long getting the token took (the last one, when there were two).</summary>
    public TimeSpan Elapsed { get; internal set; }

    /// <summary>The XOAUTH2 user: the mailbox sent as; empty when no token was had.</summary>
    public string UserName { get; internal set; } = string.Empty;

    /// <summary>When the token stops being valid; null when no token was had.</summary>
    public DateTimeOffset? ExpiresOn { get; internal set; }

    /// <summary>Whether the token is a JWT, so that its claims could be read (Microsoft's are; Google's are opaque).</summary>
    public bool IsJwt { get; internal set; }

    /// <summary>The resource the token is for (the JWT's <c>aud</c> claim); empty when not known.</summary>
    public string Audience { get; internal set; } = string.Empty;

    /// <summary>The application permissions granted (the JWT's <c>roles</c> claim).</summary>
    public IReadOnlyList<string> Roles { get; internal set; } = Array.Empty<string>();

    /// <summary>The delegated scopes granted (the JWT's <c>scp</c> claim).</summary>
    public IReadOnlyList<string> Scopes { get; internal set; } = Array.Empty<string>();

    /// <summary>Whether the token is for Microsoft 365 (its provider, or an Exchange Online audience).</summary>
    public bool IsMicrosoft365 { get; internal set; }

    /// <summary>
    /// For a Microsoft 365 token whose claims could be read: whether it carries <see cref="SendAsAppRole"/>;
    /// null for other tokens.
    /// </summary>
    public bool? HasSendAsApp { get; internal set; }

    /// <summary>What looks wrong although a token was had (a missing SMTP permission, a foreign audience).</summary>
    public IReadOnlyList<string> Warnings { get; internal set; } = Array.Empty<string>();

    /// <summary>The endpoint's error with what to fix, when no token was had; empty otherwise.</summary>
    public string Error { get; internal set; } = string.Empty;

    /// <summary>The endpoint's <c>error</c> code (invalid_client, invalid_grant...) or Relay's (unreachable, timeout); empty when a token was had.</summary>
    public string ErrorCode { get; internal set; } = string.Empty;

    /// <summary>What to fix, when no token was had; empty otherwise.</summary>
    public string Remedy { get; internal set; } = string.Empty;

    /// <summary>How many tokens the next hop refused (535) before the last attempt: 1 when a refused token was renewed and tried again.</summary>
    public int Refused { get; internal set; }

    /// <summary>The next hop's last reply to AUTH XOAUTH2 (235, or 535); null when AUTH was not attempted.</summary>
    public int? AuthReplyCode { get; internal set; }

    /// <summary>The text of that reply.</summary>
    public string AuthReply { get; internal set; } = string.Empty;

    /// <summary>The next hop's error for a refused token: the JSON its 334 challenge carried in base64, decoded; empty when none.</summary>
    public string NextHopError { get; internal set; } = string.Empty;

    /// <summary>Describes the step without the token's value.</summary>
    /// <returns>For example <c>token for printer@contoso.com, expires 2026-11-23 16:00:00Z, roles SMTP.SendAsApp (SMTP.SendAsApp present); XOAUTH2 235 2.7.0 Accepted</c>.</returns>
    public override string ToString()
    {
        string text = Acquired ? Summary() : "no token: " + Error;
        if (Refused > 0)
        {
            text += "; the next hop refused " + (Refused == 1 ? "a token" : Refused.ToString(CultureInfo.InvariantCulture) + " tokens") + ", renewed";
        }
        if (AuthReplyCode != null)
        {
            text += "; XOAUTH2 " + AuthReplyCode.Value.ToString(CultureInfo.InvariantCulture) + " " + AuthReply;
            if (NextHopError.Length > 0)
            {
                text += " (" + NextHopError + ")";
            }
        }
        return text;
    }

    /// <summary>The token's user, expiry and claims, what they mean for Microsoft 365, and the warnings.</summary>
    internal string Summary()
    {
        string text = "token for " + UserName;
        if (ExpiresOn != null && ExpiresOn.Value != DateTimeOffset.MaxValue)
        {
            text += ", expires " + ExpiresOn.Value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        }
        if (!IsJwt)
        {
            text += ", opaque (no claims to read)";
        }
        else
        {
            text += Roles.Count > 0 ? ", roles " + string.Join(" ", Roles) : ", no roles";
            text += Scopes.Count > 0 ? ", scopes " + string.Join(" ", Scopes) : string.Empty;
        }
        if (HasSendAsApp == true)
        {
            text += " (" + SendAsAppRole + " present)";
        }
        else if (HasSendAsApp == false)
        {
            text += " (" + SendAsAppRole + " MISSING)";
        }
        foreach (string warning in Warnings)
        {
            text += "; WARNING: " + warning;
        }
        return text;
    }

    /// <summary>Reads what the probe may show of a token: everything but its value.</summary>
    internal void Describe(AccessToken token, IAccessTokenProvider provider)
    {
        Acquired = true;
        Error = ErrorCode = Remedy = string.Empty;
        UserName = token.UserName ?? string.Empty;
        ExpiresOn = token.ExpiresOn;
        IsJwt = token.IsJwt;
        Audience = token.Audience ?? string.Empty;
        Roles = token.Roles;
        Scopes = token.Scopes;
        IsMicrosoft365 = provider is Microsoft365TokenProvider || IsExchangeAudience(Audience);
        var warnings = new List<string>();
        if (IsMicrosoft365 && IsJwt)
        {
            HasSendAsApp = token.HasRole(SendAsAppRole);
            bool delegated = Scopes.Contains(SendScope, StringComparer.OrdinalIgnoreCase);
            if (HasSendAsApp == false && !delegated)
            {
                warnings.Add("the token has neither the " + SendAsAppRole + " role nor the " + SendScope + " scope, so Exchange Online will refuse AUTH: add the application permission " +
                    SendAsAppRole + " (Office 365 Exchange Online) to the app registration and grant admin consent, then register the application's service principal in Exchange and give it access to the mailbox");
            }
            if (!IsExchangeAudience(Audience))
            {
                warnings.Add("the token is for '" + Audience + "', not Exchange Online: ask for the scope " + Microsoft365Options.DefaultScope);
            }
        }
        else if (IsMicrosoft365)
        {
            warnings.Add("the token is not a JWT, so its " + SendAsAppRole + " role cannot be checked");
        }
        Warnings = warnings;
    }

    /// <summary>Records why no token was had.</summary>
    internal void Describe(TokenAcquisitionException error)
    {
        Acquired = false;
        Error = error.Message;
        ErrorCode = error.Error ?? string.Empty;
        Remedy = error.Remedy ?? string.Empty;
    }

    private static bool IsExchangeAudience(string audience) =>
        audience.StartsWith("https://outlook.office365.com", StringComparison.OrdinalIgnoreCase) ||
        audience.StartsWith("https://outlook.office.com", StringComparison.OrdinalIgnoreCase) ||
        audience.StartsWith("https://outlook.office365.us", StringComparison.OrdinalIgnoreCase) ||
        audience.StartsWith("https://partner.outlook.cn", StringComparison.OrdinalIgnoreCase) ||
        audience == "00000002-0000-0ff1-ce00-000000000000";
}
