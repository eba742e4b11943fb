// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.OAuth;
using Xunit;

namespace RelayCore.Tests.OAuth;

public sealed class StaticTokenProviderTests
{
    [Fact]
    public async Task Invalidated_AskedAgain_FailsSayingSupplyANewToken()
    {
        var provider = new StaticTokenProvider("relay@example.test", OAuthAccount.Secure("opaque-token"));
        AccessToken token = await provider.GetTokenAsync(CancellationToken.None);

        provider.Invalidate(token);

        var error = await Assert.ThrowsAsync<TokenAcquisitionException>(() => provider.GetTokenAsync(CancellationToken.None));
        Assert.Equal("token_rejected", error.Error);
        Assert.False(error.IsRetryable);
        Assert.Contains("supply a new one", error.Remedy);
        Assert.DoesNotContain("opaque-token", error.ToString());
    }

    [Fact]
    public async Task JwtPastItsExp_Asked_FailsAsExpired()
    {
        using var endpoint = new TokenEndpoint { ExpiresIn = 60 };
        string jwt = endpoint.IssueJwt("https://outlook.office365.com", new[] { "SMTP.SendAsApp" }, null);
        var provider = new StaticTokenProvider("relay@example.test", OAuthAccount.Secure(jwt));
        AccessToken token = await provider.GetTokenAsync(CancellationToken.None);

        provider.UtcNow = () => token.ExpiresOn;

        var error = await Assert.ThrowsAsync<TokenAcquisitionException>(() => provider.GetTokenAsync(CancellationToken.None));
        Assert.Equal("token_expired", error.Error);
        Assert.InRange(token.ExpiresOn, DateTimeOffset.UtcNow.AddSeconds(50), DateTimeOffset.UtcNow.AddSeconds(70));
    }
}
