// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCmdlets;

/// <summary>How an OAuth2 account proves itself to its token endpoint.</summary>
public enum RelayOAuthCredentialType
{
    /// <summary>A client secret of the app registration (Microsoft365).</summary>
    ClientSecret,

    /// <summary>A certificate file, PFX or PEM with its key (Microsoft365).</summary>
    CertificateFile,

    /// <summary>A certificate in the Windows certificate store, by thumbprint (Microsoft365).</summary>
    CertificateThumbprint,

    /// <summary>A refresh token, with the client's secret when it has one (RefreshToken).</summary>
    RefreshToken,

    /// <summary>An access token given as it is (Static).</summary>
    StaticToken,
}
