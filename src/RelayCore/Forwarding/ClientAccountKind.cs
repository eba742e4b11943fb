// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Forwarding;

/// <summary>What kind of secret a client account holds, which decides the SASL mechanisms it can serve.</summary>
internal enum ClientAccountKind
{
    /// <summary>A plain password: CRAM-MD5, PLAIN, LOGIN.</summary>
    Password,

    /// <summary>E-MailRelay's <c>md5</c> HMAC-MD5 key states: CRAM-MD5 only.</summary>
    Md5Secret,

    /// <summary>An OAuth2 bearer token: XOAUTH2 only.</summary>
    OAuthToken,
}
