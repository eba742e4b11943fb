// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Hosting;
using RelayCore.Net;

namespace RelayCore.OAuth;

/// <summary>Access tokens from a refresh token (RFC 6749 section 6), with a rotated refresh token persisted through the store.</summary>
public sealed class RefreshTokenProvider : CachingTokenProvider, IDisposable
{
    /// <summary>The lifetime assumed when the endpoint omits <c>expires_in</c> (RFC 6749 section 5.1 makes it optional).</summary>
    internal static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);

    private readonly RefreshTokenOptions _options;
    private readonly HttpClient _client;
    private readonly bool _ownsClient;
    private readonly string _clientSecret;
    private readonly string _endpoint;
    private string _refreshToken;

    /// <summary>Creates the provider.</summary>
    /// <param name="options">The endpoint, client and refresh token.</param>
    /// <exception cref="ArgumentException">The endpoint, client id, refresh token or user is missing, or the endpoint is not HTTPS.</exception>
    public RefreshTokenProvider(RefreshTokenOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.TokenEndpoint == null || !options.TokenEndpoint.IsAbsoluteUri || options.TokenEndpoint.Scheme != Uri.UriSchemeHttps)
        {
            throw new ArgumentException("The token endpoint must be an absolute https URL.", nameof(options));
        }
        if (string.IsNullOrEmpty(options.ClientId) || string.IsNullOrEmpty(options.UserName))
        {
            throw new ArgumentException("A refresh-token account needs a client id and the user (mailbox) to send as.", nameof(options));
        }
        _refreshToken = ServerCertificate.ToPlainText(options.RefreshToken) ?? throw new ArgumentException("A refresh-token account needs its refresh token.", nameof(options));
        _clientSecret = ServerCertificate.ToPlainText(options.ClientSecret);
        _endpoint = options.TokenEndpoint.AbsoluteUri;
        _ownsClient = options.HttpClient == null;
        _client = options.HttpClient ?? new HttpClient();
        Description = "OAuth2 refresh token for " + options.UserName + ": client " + options.ClientId + ", endpoint " + _endpoint;
    }

    /// <inheritdoc/>
    public override string Description { get; }

    /// <inheritdoc/>
    protected override string Endpoint => _endpoint;

    /// <summary>Disposes the HTTP client this provider made (not one it was given).</summary>
    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }
    }

    /// <inheritdoc/>
    protected override async Task<AccessToken> AcquireAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        string refreshToken = Volatile.Read(ref _refreshToken);
        var form = new List<KeyValuePair<string, string>>
        {
            new KeyValuePair<string, string>("grant_type", "refresh_token"),
            new KeyValuePair<string, string>("refresh_token", refreshToken),
            new KeyValuePair<string, string>("client_id", _options.ClientId),
        };
        if (_clientSecret != null)
        {
            form.Add(new KeyValuePair<string, string>("client_secret", _clientSecret));
        }
        if (!string.IsNullOrEmpty(_options.Scope))
        {
            form.Add(new KeyValuePair<string, string>("scope", _options.Scope));
        }
        DateTimeOffset requestedAt = DateTimeOffset.UtcNow;
        int status;
        string body;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _options.TokenEndpoint) { Content = new FormUrlEncodedContent(form) };
            request.Headers.Accept.ParseAdd("application/json");
            using HttpResponseMessage response = await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
            status = (int)response.StatusCode;
            body = await response.Content.ReadAsStringAsync().ConfigureAwait(false);
        }
        catch (HttpRequestException error)
        {
            throw TokenErrorAdvice.FromNetwork(_endpoint, TokenErrorAdvice.Unreachable, error.InnerException?.Message ?? error.Message, error);
        }
        catch (IOException error)
        {
            throw TokenErrorAdvice.FromNetwork(_endpoint, TokenErrorAdvice.Unreachable, error.Message, error);
        }
        TokenResponse answer = TokenResponse.Parse(body);
        if (status != 200 || string.IsNullOrEmpty(answer?.AccessToken))
        {
            throw TokenErrorAdvice.FromEndpoint(_endpoint, answer?.Error, answer?.ErrorDescription ?? (answer == null ? "the answer is not JSON" : status == 200 ? "the answer has no access_token" : null), status, true, null);
        }
        if (!string.IsNullOrEmpty(answer.RefreshToken) && answer.RefreshToken != refreshToken)
        {
            // Kept even if the rest of the answer is unusable: the endpoint may already have retired the old one.
            Rotate(answer.RefreshToken);
        }
        DateTimeOffset? expiresOn = ExpiryOf(requestedAt, answer.ExpiresIn);
        if (expiresOn == null)
        {
            throw TokenErrorAdvice.FromEndpoint(_endpoint, null, "the answer's expires_in (" + answer.ExpiresIn + " s) is no lifetime a date can hold", status, true, null);
        }
        return new AccessToken(answer.AccessToken, _options.UserName, expiresOn.Value);
    }

    /// <summary>When a token answered at <paramref name="requestedAt"/> expires; null when <c>expires_in</c> is beyond any date (a broken endpoint).</summary>
    private static DateTimeOffset? ExpiryOf(DateTimeOffset requestedAt, long? expiresIn)
    {
        if (!expiresIn.HasValue)
        {
            return requestedAt + DefaultLifetime;
        }
        // A negative lifetime is a token already expired, not an error.
        long seconds = Math.Max(0, expiresIn.Value);
        return seconds < (DateTimeOffset.MaxValue - requestedAt).TotalSeconds ? requestedAt.AddSeconds(seconds) : null;
    }

    /// <summary>Uses the new refresh token from now on and persists it; a failed write is logged, not thrown, since the access token is good.</summary>
    private void Rotate(string refreshToken)
    {
        Volatile.Write(ref _refreshToken, refreshToken);
        if (_options.Store == null)
        {
            Log(RelayLogLevel.Warning, "oauth " + _options.UserName + ": the endpoint rotated the refresh token; it is kept in memory only (no store)");
            return;
        }
        try
        {
            _options.Store.SaveRefreshToken(refreshToken);
            Log(RelayLogLevel.Information, "oauth " + _options.UserName + ": rotated refresh token saved");
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            Log(RelayLogLevel.Error, "oauth " + _options.UserName + ": the rotated refresh token could not be saved (" + error.Message + "); the next run may need a new sign-in");
        }
    }

    private void Log(RelayLogLevel level, string text) => _options.Log?.Invoke(level, text);

    /// <summary>The fields of a token response (RFC 6749 section 5.1) or error response (section 5.2).</summary>
    private sealed class TokenResponse
    {
        internal string AccessToken { get; private set; }

        internal string RefreshToken { get; private set; }

        internal long? ExpiresIn { get; private set; }

        internal string Error { get; private set; }

        internal string ErrorDescription { get; private set; }

        internal static TokenResponse Parse(string body)
        {
            try
            {
                using JsonDocument document = JsonDocument.Parse(body);
                JsonElement root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    return null;
                }
                return new TokenResponse
                {
                    AccessToken = Text(root, "access_token"),
                    RefreshToken = Text(root, "refresh_token"),
                    ExpiresIn = ExpiresInOf(root),
                    Error = Text(root, "error"),
                    ErrorDescription = Text(root, "error_description"),
                };
            }
            catch (JsonException)
            {
                return null;
            }
        }

        private static string Text(JsonElement root, string name) =>
            root.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        /// <summary><c>expires_in</c> as a number, or as a string as some endpoints send it.</summary>
        private static long? ExpiresInOf(JsonElement root)
        {
            if (!root.TryGetProperty("expires_in", out JsonElement value))
            {
                return null;
            }
            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long seconds))
            {
                return seconds;
            }
            return value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), out seconds) ? seconds : null;
        }
    }
}
