// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using RelayCore.OAuth;
using Xunit;

namespace RelayCore.Tests.OAuth;

public sealed class TokenErrorAdviceTests
{
    [Theory]
    [InlineData("invalid_client", "AADSTS7000222: The provided client secret keys for app are expired.", false, "client secret is wrong or expired")]
    [InlineData("unauthorized_client", "AADSTS700016: Application with identifier 'x' was not found in the directory 'y'.", false, "No application with this client id")]
    [InlineData("invalid_request", "AADSTS90002: Tenant 'nope' not found.", false, "tenant was not found")]
    [InlineData("invalid_grant", "Token has been expired or revoked.", true, "sign in again")]
    [InlineData("invalid_scope", "The provided value for scope is not valid.", false, "https://outlook.office365.com/.default")]
    [InlineData("invalid_client", "Unauthorized", true, "copy them again")]
    public void EndpointError_NonRetryable_RemedyNamesTheFix(string error, string description, bool isRefreshTokenGrant, string remedy)
    {
        TokenAcquisitionException exception = TokenErrorAdvice.FromEndpoint("https://login.example.test/t", error, description, 400, isRefreshTokenGrant, null);

        Assert.False(exception.IsRetryable);
        Assert.Contains(remedy, exception.Remedy);
        Assert.StartsWith("The token request to https://login.example.test/t failed (HTTP 400): " + error + ": " + description, exception.Message);
    }

    [Theory]
    [InlineData("temporarily_unavailable", 400)]
    [InlineData(null, 503)]
    [InlineData(null, 429)]
    [InlineData("service_not_available", 500)]
    public void ServiceProblem_Retryable(string error, int status)
    {
        TokenAcquisitionException exception = TokenErrorAdvice.FromEndpoint("https://login.example.test/t", error, null, status, false, null);

        Assert.True(exception.IsRetryable);
        Assert.Contains("trying later may help", exception.Remedy);
    }
}
