// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Net.Http;
using System.Security;
using RelayCore.Hosting;

namespace RelayCore.OAuth;

/// <summary>
/// An account whose access tokens come from a refresh token at a standard OAuth2 token endpoint
/// (RFC 6749 section 6): Gmail, and any provider that gives a mail client a refresh token.
/// </summary>
public sealed class RefreshTokenOptions
{
    /// <summary>Google's token endpoint.</summary>
    public static readonly Uri GoogleTokenEndpoint = new Uri("https://oauth2.googleapis.com/token");

    /// <summary>The token endpoint URL; Google's unless changed.</summary>
    public Uri TokenEndpoint { get; set; } = GoogleTokenEndpoint;

    /// <summary>The OAuth client id.</summary>
    public string ClientId { get; set; }

    /// <summary>The OAuth client secret; null for a public client.</summary>
    public SecureString ClientSecret { get; set; }

    /// <summary>The refresh token obtained when the account's owner consented.</summary>
    public SecureString RefreshToken { get; set; }

    /// <summary>The mailbox sent as: the XOAUTH2 user.</summary>
    public string UserName { get; set; }

    /// <summary>A narrower scope to ask for; null to get the scope the refresh token was granted.</summary>
    public string Scope { get; set; }

    /// <summary>Where a rotated refresh token is persisted; null to keep it in memory only.</summary>
    public IRefreshTokenStore Store { get; set; }

    /// <summary>The HTTP client for the token endpoint (a proxy, or a private CA); a default one when null.</summary>
    public HttpClient HttpClient { get; set; }

    /// <summary>Where the provider says what it did (a rotation persisted or not); never with a secret.</summary>
    public Action<RelayLogLevel, string> Log { get; set; }
}
