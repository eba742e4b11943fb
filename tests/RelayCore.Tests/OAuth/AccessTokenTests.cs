// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using RelayCore.OAuth;
using Xunit;

namespace RelayCore.Tests.OAuth;

public sealed class AccessTokenTests
{
    [Fact]
    public void Jwt_WithRolesAndScp_ClaimsDecoded()
    {
        string payload = TokenEndpoint.Base64Url(System.Text.Encoding.UTF8.GetBytes("{\"aud\":\"https://outlook.office365.com\",\"roles\":[\"SMTP.SendAsApp\",\"Mail.Send\"],\"scp\":\"SMTP.Send offline_access\"}"));

        var token = new AccessToken("eyJhbGciOiJub25lIn0." + payload + ".c2ln", "a@example.test", DateTimeOffset.UtcNow.AddHours(1));

        Assert.True(token.IsJwt);
        Assert.Equal(new[] { "SMTP.SendAsApp", "Mail.Send" }, token.Roles);
        Assert.Equal(new[] { "SMTP.Send", "offline_access" }, token.Scopes);
        Assert.True(token.HasRole("smtp.sendasapp"));
        Assert.Equal("https://outlook.office365.com", token.Audience);
    }

    [Theory]
    [InlineData("ya29.a0AfH6SMopaque")]
    [InlineData("a.!!!.c")]
    [InlineData("a.bm90IGpzb24.c")]
    public void NotAJwt_NoClaims(string value)
    {
        var token = new AccessToken(value, "a@example.test", DateTimeOffset.UtcNow.AddHours(1));

        Assert.False(token.IsJwt);
        Assert.Empty(token.Roles);
        Assert.Empty(token.Scopes);
    }

    [Theory]
    [InlineData("99999999999999")]
    [InlineData("-99999999999999")]
    public async System.Threading.Tasks.Task Jwt_ExpBeyondAnyDate_ClaimsReadWithoutExpiry(string exp)
    {
        string payload = TokenEndpoint.Base64Url(System.Text.Encoding.UTF8.GetBytes("{\"roles\":[\"SMTP.SendAsApp\"],\"exp\":" + exp + "}"));

        var provider = new StaticTokenProvider("a@example.test", OAuthAccount.Secure("eyJhbGciOiJub25lIn0." + payload + ".c2ln"));
        AccessToken token = await provider.GetTokenAsync(System.Threading.CancellationToken.None);

        Assert.True(token.IsJwt);
        Assert.Equal(new[] { "SMTP.SendAsApp" }, token.Roles);
        Assert.Equal(DateTimeOffset.MaxValue, token.ExpiresOn);
    }

    [Fact]
    public void ToString_NeverShowsTheValue()
    {
        string payload = TokenEndpoint.Base64Url(System.Text.Encoding.UTF8.GetBytes("{\"roles\":[\"SMTP.SendAsApp\"]}"));
        var token = new AccessToken("eyJhbGciOiJub25lIn0." + payload + ".c2lnbmF0dXJl", "a@example.test", new DateTimeOffset(2026, 11, 23, 16, 0, 0, TimeSpan.Zero));

        string text = token.ToString();

        Assert.Equal("access token for a@example.test, expires 2026-11-23 16:00:00Z, roles SMTP.SendAsApp", text);
    }
}
