// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Security;
using MailKit.Security;
using RelayCore.OAuth;

namespace RelayCore.Forwarding;

/// <summary>One account to log in to a next hop as: a password, an <c>md5</c> key-state secret (CRAM-MD5 only) or an OAuth2 token provider (XOAUTH2 only).</summary>
internal sealed class ClientAccount
{
    internal const string XOAuth2 = "XOAUTH2";
    internal const string CramMd5 = "CRAM-MD5";
    internal const string Plain = "PLAIN";
    internal const string Login = "LOGIN";

    private readonly string _secret;

    private ClientAccount(ClientAccountKind kind, string userName, string secret, string source, IAccessTokenProvider tokenProvider = null)
    {
        Kind = kind;
        UserName = userName ?? string.Empty;
        _secret = secret ?? string.Empty;
        Source = source;
        TokenProvider = tokenProvider;
    }

    internal ClientAccountKind Kind { get; }

    /// <summary>The user to log in as; for an OAuth2 account, what the log names it by until a token says its user.</summary>
    internal string UserName { get; }

    /// <summary>Where an OAuth2 account's tokens come from; null for the other kinds.</summary>
    internal IAccessTokenProvider TokenProvider { get; }

    /// <summary>Where the account came from, for log lines and errors (never the secret).</summary>
    internal string Source { get; }

    /// <summary>The password, for the POP3 login that goes with this account; null when there is none (md5, OAuth2).</summary>
    internal string Password => Kind == ClientAccountKind.Password ? _secret : null;

    /// <summary>The mechanisms this account can serve, strongest first.</summary>
    internal string[] UsableMechanisms => Kind switch
    {
        ClientAccountKind.OAuthToken => new[] { XOAuth2 },
        ClientAccountKind.Md5Secret => new[] { CramMd5 },
        _ => new[] { CramMd5, Plain, Login },
    };

    internal static ClientAccount WithPassword(string userName, string password, string source) =>
        new ClientAccount(ClientAccountKind.Password, userName, password, source);

    internal static ClientAccount WithMd5Secret(string userName, string md5Secret, string source) =>
        new ClientAccount(ClientAccountKind.Md5Secret, userName, md5Secret, source);

    /// <summary>An OAuth2 account: each session asks the provider for its current token.</summary>
    /// <param name="userName">The user, when known before a token is (a static token's); null for the provider's description.</param>
    /// <param name="provider">Where the tokens come from.</param>
    /// <param name="source">Where the account came from, for log lines and errors.</param>
    internal static ClientAccount WithTokenProvider(string userName, IAccessTokenProvider provider, string source) =>
        new ClientAccount(ClientAccountKind.OAuthToken, userName ?? provider.Description, null, source, provider);

    /// <summary>A static OAuth2 token (a secrets file's <c>oauth</c> line, the token option), served like any provider's.</summary>
    internal static ClientAccount WithOAuthToken(string userName, SecureString token, string source) =>
        WithTokenProvider(userName, new StaticTokenProvider(userName, token), source);

    /// <summary>Whether the mechanism sends a secret that an eavesdropper could reuse (PLAIN, LOGIN, XOAUTH2).</summary>
    internal static bool RevealsSecret(string mechanism) =>
        !string.Equals(mechanism, CramMd5, StringComparison.OrdinalIgnoreCase);

    /// <summary>Makes MailKit's mechanism for a name this account can serve.</summary>
    /// <param name="mechanism">The mechanism's name.</param>
    /// <param name="token">The OAuth2 token to send with XOAUTH2; its user is the one logged in as. Null for the other mechanisms.</param>
    internal SaslMechanism CreateMechanism(string mechanism, AccessToken token = null)
    {
        switch (mechanism.ToUpperInvariant())
        {
            case XOAuth2:
                return token != null ? new SaslMechanismOAuth2(token.UserName, token.Value) : throw new ArgumentNullException(nameof(token), "XOAUTH2 needs the provider's token.");
            case CramMd5 when Kind == ClientAccountKind.Md5Secret:
                return new CramMd5SecretMechanism(UserName, _secret);
            case CramMd5:
                return new SaslMechanismCramMd5(UserName, _secret);
            case Plain:
                return new SaslMechanismPlain(UserName, _secret);
            case Login:
                return new SaslMechanismLogin(UserName, _secret);
            default:
                throw new ArgumentOutOfRangeException(nameof(mechanism), mechanism, "Not a client mechanism Relay knows.");
        }
    }
}
