// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Auth;

/// <summary>The second field of a secrets line: how its id and secret are written.</summary>
public enum SecretType
{
    /// <summary><c>plain</c>: id and secret are xtext (RFC 3461) plain text.</summary>
    Plain,

    /// <summary><c>plain:b</c>: id and secret are base64 plain text.</summary>
    PlainBase64,

    /// <summary><c>md5</c>: the secret is HMAC-MD5 key states from <c>emailrelay-passwd</c>; CRAM-MD5 only.</summary>
    Md5,

    /// <summary><c>oauth</c>: a client line whose secret is an OAuth 2.0 bearer token (XOAUTH2).</summary>
    OAuth,

    /// <summary><c>none</c>: a server line whose id is a trusted address range and whose secret is a keyword.</summary>
    None,
}
