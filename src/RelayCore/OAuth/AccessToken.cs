// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;

namespace RelayCore.OAuth;

/// <summary>An OAuth2 access token, the user it authenticates as, its expiry and, for a JWT, its roles and scopes.</summary>
/// <remarks>The token's value is never part of <see cref="ToString"/>, so logging the object cannot leak it.</remarks>
public sealed class AccessToken
{
    /// <summary>Creates a token; when the value is a JWT its <c>roles</c> and <c>scp</c> claims are decoded.</summary>
    /// <param name="value">The bearer token as the endpoint issued it.</param>
    /// <param name="userName">The XOAUTH2 user: the mailbox sent as.</param>
    /// <param name="expiresOn">When the token stops being valid.</param>
    /// <exception cref="ArgumentException">The value is empty.</exception>
    public AccessToken(string value, string userName, DateTimeOffset expiresOn)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ArgumentException("An access token value is required.", nameof(value));
        }
        Value = value;
        UserName = userName;
        ExpiresOn = expiresOn;
        JwtClaims claims = JwtClaims.TryRead(value);
        IsJwt = claims != null;
        Roles = claims?.Roles ?? Array.Empty<string>();
        Scopes = claims?.Scopes ?? Array.Empty<string>();
        Audience = claims?.Audience;
    }

    /// <summary>The bearer token itself: a secret, for the SASL exchange only.</summary>
    public string Value { get; }

    /// <summary>The XOAUTH2 user: the mailbox sent as.</summary>
    public string UserName { get; }

    /// <summary>When the token stops being valid.</summary>
    public DateTimeOffset ExpiresOn { get; }

    /// <summary>Whether the token is a JWT (Microsoft's are; Google's are opaque), so that its claims could be read.</summary>
    public bool IsJwt { get; }

    /// <summary>The application permissions granted (the JWT's <c>roles</c> claim), e.g. SMTP.SendAsApp.</summary>
    public IReadOnlyList<string> Roles { get; }

    /// <summary>The delegated scopes granted (the JWT's space-separated <c>scp</c> claim), e.g. SMTP.Send.</summary>
    public IReadOnlyList<string> Scopes { get; }

    /// <summary>The resource the token is for (the JWT's <c>aud</c> claim); null when not a JWT.</summary>
    public string Audience { get; }

    /// <summary>Whether the token carries an application permission, e.g. <c>SMTP.SendAsApp</c>.</summary>
    /// <param name="role">The role, compared without regard to case.</param>
    /// <returns>True when the <c>roles</c> claim holds it.</returns>
    public bool HasRole(string role)
    {
        foreach (string granted in Roles)
        {
            if (string.Equals(granted, role, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Describes the token without its value: user, expiry and claims.</summary>
    /// <returns>For example <c>access token for printer@contoso.com, expires 2026-11-23 16:00:00Z, roles SMTP.SendAsApp</c>.</returns>
    public override string ToString()
    {
        string text = "access token for " + (UserName ?? "(no user)") + ", expires " + ExpiresOn.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        if (Roles.Count > 0)
        {
            text += ", roles " + string.Join(" ", Roles);
        }
        if (Scopes.Count > 0)
        {
            text += ", scopes " + string.Join(" ", Scopes);
        }
        return text;
    }
}
