// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.OAuth;

/// <summary>Where an account's access tokens come from.</summary>
public enum OAuthProviderKind
{
    /// <summary>A token given as it is; nothing renews it.</summary>
    Static,

    /// <summary>Microsoft 365 app-only: client credentials with a secret or certificate, through MSAL.</summary>
    Microsoft365,

    /// <summary>A refresh token at a standard OAuth2 token endpoint (Gmail and others).</summary>
    RefreshToken,
}
