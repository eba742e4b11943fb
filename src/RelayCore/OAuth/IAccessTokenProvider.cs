// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.OAuth;

/// <summary>A current OAuth2 access token for one account, for XOAUTH2 towards a next hop.</summary>
/// <remarks>
/// Providers cache their token, renew it before it expires and share one acquisition between
/// concurrent callers, so many forwarding connections cost one request to the token endpoint.
/// A connection authenticates with SASL XOAUTH2 as <see cref="AccessToken.UserName"/> with
/// <see cref="AccessToken.Value"/> (MailKit's SaslMechanismOAuth2); when the next hop answers 535 it
/// calls <see cref="Invalidate"/> with that token and authenticates once more with a new one.
/// </remarks>
public interface IAccessTokenProvider
{
    /// <summary>What the provider is, for logs and Test-RelayConnection (kind, account, endpoint); never a secret.</summary>
    string Description { get; }

    /// <summary>Returns a token that is valid now: the cached one, or a new one acquired once for all waiting callers.</summary>
    /// <param name="cancellationToken">Stops this caller's wait; an acquisition other callers share goes on.</param>
    /// <returns>The access token with the user to authenticate as.</returns>
    /// <exception cref="TokenAcquisitionException">The token endpoint refused or could not be reached.</exception>
    Task<AccessToken> GetTokenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Drops the cached token when it is still <paramref name="rejected"/> (the next hop answered 535 to it),
    /// so the next <see cref="GetTokenAsync"/> acquires a new one; a token renewed meanwhile is kept.
    /// </summary>
    /// <param name="rejected">The token the next hop refused.</param>
    void Invalidate(AccessToken rejected);
}
