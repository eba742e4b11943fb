// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.OAuth;
using Xunit;

namespace RelayCore.Tests.OAuth;

public sealed class RefreshTokenProviderTests : IDisposable
{
    private const string User = "scanner@gmail.test";

    private readonly TokenEndpoint _endpoint = new TokenEndpoint();
    private readonly HttpClient _client;
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "relay-oauth-" + Guid.NewGuid().ToString("N"))).FullName;
    private readonly CancellationTokenSource _deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));

    public RefreshTokenProviderTests() => _client = _endpoint.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _endpoint.Dispose();
        _deadline.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Refresh_ValidToken_PostsRefreshGrantAndReturnsScopedToken()
    {
        using var provider = new RefreshTokenProvider(Options(_endpoint.CurrentRefreshToken));

        AccessToken token = await provider.GetTokenAsync(_deadline.Token);

        Assert.Equal(User, token.UserName);
        Assert.Equal(new[] { "https://mail.google.com/" }, token.Scopes);
        Dictionary<string, string> form = Assert.Single(_endpoint.Forms);
        Assert.Equal("refresh_token", form["grant_type"]);
        Assert.Equal("refresh-0", form["refresh_token"]);
        Assert.Equal(TokenEndpoint.ClientSecret, form["client_secret"]);
    }

    [Fact]
    public async Task Rotation_StoredAccount_NewRefreshTokenPersistedAndUsedNext()
    {
        string path = Path.Combine(_directory, "gmail.json");
        var log = new List<string>();
        using RefreshTokenProvider provider = StoredRotatingAccount(path, (level, text) => log.Add(text));
        AccessToken first = await provider.GetTokenAsync(_deadline.Token);

        provider.Invalidate(first);
        AccessToken second = await provider.GetTokenAsync(_deadline.Token);

        Assert.NotEqual(first.Value, second.Value);
        Assert.Equal(new[] { "refresh-0", "refresh-1" }, _endpoint.Forms.Select(f => f["refresh_token"]));
        Assert.Equal("refresh-2", _endpoint.CurrentRefreshToken);
        OAuthAccount reread = OAuthAccount.Load(path);
        Assert.Equal("refresh-2", RelayCore.Net.ServerCertificate.ToPlainText(reread.RefreshToken.RefreshToken));
        Assert.Equal(new[] { "gmail.json" }, Directory.GetFiles(_directory).Select(Path.GetFileName));
        Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(path) == (UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.Contains(log, line => line.Contains("rotated refresh token saved"));
        Assert.DoesNotContain(log, line => line.Contains("refresh-1") || line.Contains("refresh-2"));
    }

    [Fact]
    public async Task Rotation_FileResavedMeanwhile_OnlyTheRefreshTokenChanges()
    {
        string path = Path.Combine(_directory, "gmail.json");
        using RefreshTokenProvider provider = StoredRotatingAccount(path, null);
        OAuthAccount edited = Account(_endpoint.CurrentRefreshToken);
        edited.RefreshToken.Scope = "https://mail.google.com/ openid";
        edited.RefreshToken.ClientSecret = OAuthAccount.Secure("a-new-client-secret");
        edited.Save(path);

        await provider.GetTokenAsync(_deadline.Token);

        RefreshTokenOptions reread = OAuthAccount.Load(path).RefreshToken;
        Assert.Equal("refresh-1", RelayCore.Net.ServerCertificate.ToPlainText(reread.RefreshToken));
        Assert.Equal("https://mail.google.com/ openid", reread.Scope);
        Assert.Equal("a-new-client-secret", RelayCore.Net.ServerCertificate.ToPlainText(reread.ClientSecret));
    }

    [Fact]
    public async Task Rotation_FileBrokenMeanwhile_TokenStillGivenAndAccountWrittenBack()
    {
        string path = Path.Combine(_directory, "gmail.json");
        using RefreshTokenProvider provider = StoredRotatingAccount(path, null);
        File.WriteAllText(path, "not an account any more");

        AccessToken token = await provider.GetTokenAsync(_deadline.Token);

        Assert.Equal(User, token.UserName);
        Assert.Equal("refresh-1", RelayCore.Net.ServerCertificate.ToPlainText(OAuthAccount.Load(path).RefreshToken.RefreshToken));
    }

    [Fact]
    public async Task Rotation_FileNowNamesAnotherEndpoint_NewRefreshTokenNotWrittenBesideIt()
    {
        string path = Path.Combine(_directory, "gmail.json");
        using RefreshTokenProvider provider = StoredRotatingAccount(path, null);
        OAuthAccount replaced = Account("someone-elses-refresh-token");
        replaced.RefreshToken.TokenEndpoint = new Uri("https://token.elsewhere.test/token");
        replaced.Save(path);

        await provider.GetTokenAsync(_deadline.Token);

        RefreshTokenOptions reread = OAuthAccount.Load(path).RefreshToken;
        Assert.Equal(_endpoint.TokenUrl, reread.TokenEndpoint);
        Assert.Equal("refresh-1", RelayCore.Net.ServerCertificate.ToPlainText(reread.RefreshToken));
    }

    [Fact]
    public async Task RevokedRefreshToken_InvalidGrant_SaysSignInAgain()
    {
        using var provider = new RefreshTokenProvider(Options("revoked-refresh-token"));

        var error = await Assert.ThrowsAsync<TokenAcquisitionException>(() => provider.GetTokenAsync(_deadline.Token));

        Assert.Equal("invalid_grant", error.Error);
        Assert.Equal("Token has been expired or revoked.", error.ErrorDescription);
        Assert.False(error.IsRetryable);
        Assert.Contains("sign in again", error.Remedy);
        Assert.DoesNotContain("revoked-refresh-token", error.ToString());
    }

    [Fact]
    public async Task ServerError_NonJsonAnswer_RetryableWithStatus()
    {
        _endpoint.Mode = TokenEndpointMode.ServerError;
        using var provider = new RefreshTokenProvider(Options(_endpoint.CurrentRefreshToken));

        var error = await Assert.ThrowsAsync<TokenAcquisitionException>(() => provider.GetTokenAsync(_deadline.Token));

        Assert.Equal(500, error.StatusCode);
        Assert.Equal("server_error", error.Error);
        Assert.True(error.IsRetryable);
    }

    [Fact]
    public async Task RenewalFails_HeldTokenStillValid_KeepsUsingIt()
    {
        using var provider = new RefreshTokenProvider(Options(_endpoint.CurrentRefreshToken));
        TestClock clock = TestClock.Drive(provider);
        AccessToken first = await provider.GetTokenAsync(_deadline.Token);
        _endpoint.Mode = TokenEndpointMode.ServerError;

        clock.Now = first.ExpiresOn - TimeSpan.FromMinutes(2);
        AccessToken during = await provider.GetTokenAsync(_deadline.Token);
        AccessToken again = await provider.GetTokenAsync(_deadline.Token);

        Assert.Same(first, during);
        Assert.Same(first, again);
        Assert.Equal(2, _endpoint.TokenRequests);
    }

    [Fact]
    public async Task OneCallerGivesUp_SharedAcquisition_GoesOnForTheOthers()
    {
        _endpoint.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var provider = new RefreshTokenProvider(Options(_endpoint.CurrentRefreshToken));
        using var impatient = new CancellationTokenSource();
        Task<AccessToken> first = provider.GetTokenAsync(impatient.Token);
        Task<AccessToken> second = provider.GetTokenAsync(_deadline.Token);
        await Hosting.TestServer.WaitUntilAsync(() => _endpoint.TokenRequests == 1, "the token request reached the endpoint");

        impatient.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        _endpoint.Hold.SetResult();
        AccessToken token = await second;

        Assert.Equal(User, token.UserName);
        Assert.Equal(1, _endpoint.TokenRequests);
    }

    [Fact]
    public async Task EndpointNeverAnswers_AcquisitionTimeout_RetryableTimeout()
    {
        _endpoint.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var provider = new RefreshTokenProvider(Options(_endpoint.CurrentRefreshToken)) { AcquisitionTimeout = TimeSpan.FromMilliseconds(300) };

        var error = await Assert.ThrowsAsync<TokenAcquisitionException>(() => provider.GetTokenAsync(_deadline.Token));

        Assert.Equal("timeout", error.Error);
        Assert.True(error.IsRetryable);
        _endpoint.Hold.SetResult();
    }

    [Theory]
    [InlineData("{\"access_token\":\"\",\"token_type\":\"Bearer\",\"expires_in\":3600}")]
    [InlineData("{\"access_token\":\"at-1\",\"token_type\":\"Bearer\",\"expires_in\":9223372036854775807}")]
    [InlineData("{\"access_token\":\"at-1\",\"token_type\":\"Bearer\",\"expires_in\":\"99999999999999\"}")]
    public async Task MalformedTokenAnswer_EmptyTokenOrAbsurdExpiry_InvalidResponseHeldLikeAnyFailure(string answer)
    {
        var handler = new FixedAnswerHandler(System.Net.HttpStatusCode.OK, answer);
        using var client = new HttpClient(handler);
        RefreshTokenOptions options = Options("refresh-0");
        options.HttpClient = client;
        using var provider = new RefreshTokenProvider(options);

        var error = await Assert.ThrowsAsync<TokenAcquisitionException>(() => provider.GetTokenAsync(_deadline.Token));
        var again = await Assert.ThrowsAsync<TokenAcquisitionException>(() => provider.GetTokenAsync(_deadline.Token));

        Assert.Equal("invalid_response", error.Error);
        Assert.Equal(200, error.StatusCode);
        Assert.Same(error, again);
        Assert.Equal(1, handler.Requests);
    }

    [Fact]
    public void PlainHttpEndpoint_Refused()
    {
        RefreshTokenOptions options = Options("refresh-0");
        options.TokenEndpoint = new Uri("http://localhost/token");

        Assert.Throws<ArgumentException>(() => new RefreshTokenProvider(options));
    }

    /// <summary>Saves an account to <paramref name="path"/>, loads it and makes its provider, against an endpoint that rotates refresh tokens.</summary>
    private RefreshTokenProvider StoredRotatingAccount(string path, Action<RelayCore.Hosting.RelayLogLevel, string> log)
    {
        _endpoint.RotateRefreshTokens = true;
        Account(_endpoint.CurrentRefreshToken).Save(path);
        OAuthAccount loaded = OAuthAccount.Load(path);
        loaded.RefreshToken.HttpClient = _client;
        return (RefreshTokenProvider)loaded.CreateProvider(log);
    }

    private RefreshTokenOptions Options(string refreshToken) => Account(refreshToken).RefreshToken;

    private OAuthAccount Account(string refreshToken) => new OAuthAccount
    {
        Kind = OAuthProviderKind.RefreshToken,
        RefreshToken = new RefreshTokenOptions
        {
            TokenEndpoint = _endpoint.TokenUrl,
            ClientId = TokenEndpoint.ClientId,
            ClientSecret = OAuthAccount.Secure(TokenEndpoint.ClientSecret),
            RefreshToken = OAuthAccount.Secure(refreshToken),
            UserName = User,
            HttpClient = _client,
        },
    };
}
