// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Security;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Net;

namespace RelayCore.OAuth;

/// <summary>A bearer token given as it is (a parameter, or a secrets file's <c>oauth</c> line): nothing renews it.</summary>
/// <remarks>
/// A JWT's <c>exp</c> claim is its expiry; once it has passed, or once the next hop rejected the token,
/// asking again fails with what to do instead of sending a token known to be bad.
/// </remarks>
public sealed class StaticTokenProvider : IAccessTokenProvider
{
    private readonly AccessToken _token;
    private readonly Task<AccessToken> _tokenTask;
    private int _rejected;

    /// <summary>Wraps a token.</summary>
    /// <param name="userName">The XOAUTH2 user: the mailbox sent as.</param>
    /// <param name="token">The bearer token.</param>
    /// <exception cref="ArgumentException">The token is empty.</exception>
    public StaticTokenProvider(string userName, SecureString token)
    {
        string value = ServerCertificate.ToPlainText(token) ?? throw new ArgumentException("A static OAuth2 token is empty.", nameof(token));
        DateTimeOffset expiresOn = JwtClaims.TryRead(value)?.ExpiresOn ?? DateTimeOffset.MaxValue;
        _token = new AccessToken(value, userName, expiresOn);
        _tokenTask = Task.FromResult(_token);
        Description = "static OAuth2 token for " + (userName ?? "(no user)");
    }

    /// <inheritdoc/>
    public string Description { get; }

    /// <summary>The clock; tests move it past a JWT's expiry.</summary>
    internal Func<DateTimeOffset> UtcNow { get; set; } = () => DateTimeOffset.UtcNow;

    /// <inheritdoc/>
    public Task<AccessToken> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _rejected) != 0)
        {
            return Task.FromException<AccessToken>(Fail("token_rejected", "the next hop rejected the static token"));
        }
        if (UtcNow() >= _token.ExpiresOn)
        {
            return Task.FromException<AccessToken>(Fail("token_expired", "the static token expired at " + _token.ExpiresOn.UtcDateTime.ToString("u", System.Globalization.CultureInfo.InvariantCulture)));
        }
        return _tokenTask;
    }

    /// <inheritdoc/>
    public void Invalidate(AccessToken rejected)
    {
        if (rejected == null)
        {
            throw new ArgumentNullException(nameof(rejected));
        }
        if (string.Equals(rejected.Value, _token.Value, StringComparison.Ordinal))
        {
            Volatile.Write(ref _rejected, 1);
        }
    }

    private static TokenAcquisitionException Fail(string error, string description) =>
        new TokenAcquisitionException("(static token, no endpoint)", error, description, null, false,
            "A static token cannot be renewed: supply a new one, or configure a Microsoft 365 or refresh-token account that renews its tokens.", null);
}
