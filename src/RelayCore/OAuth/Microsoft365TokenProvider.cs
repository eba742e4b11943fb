// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Identity.Client;
using RelayCore.Net;

namespace RelayCore.OAuth;

/// <summary>Microsoft 365 app-only tokens (client credentials) through MSAL, for XOAUTH2 as one mailbox.</summary>
/// <remarks>
/// MSAL's in-memory token cache answers first acquisitions; renewals and retries after a rejection
/// force a new token, since MSAL would otherwise hand back the one being replaced.
/// </remarks>
public sealed class Microsoft365TokenProvider : CachingTokenProvider
{
    private readonly IConfidentialClientApplication _application;
    private readonly string[] _scopes;
    private readonly string _mailbox;
    private readonly string _authority;
    private readonly string _description;

    /// <summary>Sets up the MSAL confidential client; a certificate is loaded now, so a wrong path or password fails here.</summary>
    /// <param name="options">The app registration and the mailbox.</param>
    /// <exception cref="ArgumentException">A required setting is missing, or both or neither of secret and certificate are given.</exception>
    /// <exception cref="System.IO.FileNotFoundException">The certificate file does not exist.</exception>
    /// <exception cref="System.IO.InvalidDataException">The certificate file holds no certificate and key, or the password is wrong.</exception>
    /// <exception cref="InvalidOperationException">No certificate with the thumbprint is in the store.</exception>
    public Microsoft365TokenProvider(Microsoft365Options options)
    {
        if (options == null)
        {
            throw new ArgumentNullException(nameof(options));
        }
        Require(options.ClientId, nameof(options.ClientId));
        Require(options.Mailbox, nameof(options.Mailbox));
        Require(options.Scope, nameof(options.Scope));
        if (options.Authority == null)
        {
            Require(options.TenantId, nameof(options.TenantId));
        }
        int credentials = (options.ClientSecret != null ? 1 : 0) + (string.IsNullOrEmpty(options.CertificatePath) ? 0 : 1) + (string.IsNullOrEmpty(options.CertificateThumbprint) ? 0 : 1);
        if (credentials != 1)
        {
            throw new ArgumentException("Give exactly one of a client secret, a certificate file or a certificate thumbprint.", nameof(options));
        }
        _authority = options.Authority != null ? options.Authority.AbsoluteUri.TrimEnd('/') : AuthorityHost(options.Cloud) + "/" + options.TenantId;
        ConfidentialClientApplicationBuilder builder = ConfidentialClientApplicationBuilder.Create(options.ClientId)
            .WithAuthority(_authority, validateAuthority: options.Authority == null);
        if (options.Authority != null)
        {
            builder = builder.WithInstanceDiscovery(false);
        }
        if (options.HttpClient != null)
        {
            builder = builder.WithHttpClientFactory(new FixedHttpClientFactory(options.HttpClient));
        }
        string credential;
        if (options.ClientSecret != null)
        {
            builder = builder.WithClientSecret(ServerCertificate.ToPlainText(options.ClientSecret) ?? throw new ArgumentException("The client secret is empty.", nameof(options)));
            credential = "client secret";
        }
        else
        {
            X509Certificate2 certificate = string.IsNullOrEmpty(options.CertificatePath)
                ? FindInStore(options.CertificateThumbprint)
                : ServerCertificate.Load(options.CertificatePath, null, options.CertificatePassword);
            builder = builder.WithCertificate(certificate, sendX5C: false);
            credential = "certificate " + certificate.Thumbprint;
        }
        _application = builder.Build();
        _scopes = new[] { options.Scope };
        _mailbox = options.Mailbox;
        _description = "Microsoft 365 app-only (client credentials) for " + options.Mailbox + ": client " + options.ClientId + ", " + credential + ", authority " + _authority;
    }

    /// <inheritdoc/>
    public override string Description => _description;

    /// <inheritdoc/>
    protected override string Endpoint => _authority;

    /// <inheritdoc/>
    protected override async Task<AccessToken> AcquireAsync(bool forceRefresh, CancellationToken cancellationToken)
    {
        AuthenticationResult result;
        try
        {
            result = await _application.AcquireTokenForClient(_scopes).WithForceRefresh(forceRefresh).ExecuteAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MsalServiceException error)
        {
            string description = DescriptionOf(error.ResponseBody) ?? error.Message;
            if (error.StatusCode == 0)
            {
                throw TokenErrorAdvice.FromNetwork(_authority, TokenErrorAdvice.Unreachable, description, error);
            }
            throw TokenErrorAdvice.FromEndpoint(_authority, error.ErrorCode, description, error.StatusCode, false, error);
        }
        catch (MsalClientException error)
        {
            throw TokenErrorAdvice.FromEndpoint(_authority, error.ErrorCode, error.Message, null, false, error);
        }
        catch (HttpRequestException error)
        {
            throw TokenErrorAdvice.FromNetwork(_authority, TokenErrorAdvice.Unreachable, error.InnerException?.Message ?? error.Message, error);
        }
        return new AccessToken(result.AccessToken, _mailbox, result.ExpiresOn);
    }

    internal static string AuthorityHost(MicrosoftCloud cloud) => cloud switch
    {
        MicrosoftCloud.UsGovernment => "https://login.microsoftonline.us",
        MicrosoftCloud.China => "https://login.chinacloudapi.cn",
        _ => "https://login.microsoftonline.com",
    };

    /// <summary>The <c>error_description</c> of an error response body, when it is the JSON of RFC 6749 section 5.2.</summary>
    internal static string DescriptionOf(string responseBody)
    {
        if (string.IsNullOrEmpty(responseBody))
        {
            return null;
        }
        try
        {
            using JsonDocument document = JsonDocument.Parse(responseBody);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("error_description", out JsonElement description)
                && description.ValueKind == JsonValueKind.String
                ? description.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Windows' certificate stores: the current user's personal store first, then the machine's.</summary>
    private static X509Certificate2 FindInStore(string thumbprint)
    {
        string wanted = thumbprint.Replace(" ", string.Empty);
        foreach (StoreLocation location in new[] { StoreLocation.CurrentUser, StoreLocation.LocalMachine })
        {
            using var store = new X509Store(StoreName.My, location);
            try
            {
                store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
            }
            catch (CryptographicException)
            {
                // A store that does not exist (Linux has no machine store) holds nothing to find.
                continue;
            }
            X509Certificate2Collection found = store.Certificates.Find(X509FindType.FindByThumbprint, wanted, validOnly: false);
            foreach (X509Certificate2 certificate in found)
            {
                if (certificate.HasPrivateKey)
                {
                    return certificate;
                }
            }
        }
        throw new InvalidOperationException("No certificate with thumbprint " + wanted + " and a private key is in Cert:\\CurrentUser\\My or Cert:\\LocalMachine\\My.");
    }

    private static void Require(string value, string name)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw new ArgumentException("Microsoft 365 tokens need " + name + ".", name);
        }
    }

    /// <summary>Hands MSAL the one HttpClient it should use (MSAL expects a long-lived one).</summary>
    private sealed class FixedHttpClientFactory : IMsalHttpClientFactory
    {
        private readonly HttpClient _client;

        internal FixedHttpClientFactory(HttpClient client) => _client = client;

        public HttpClient GetHttpClient() => _client;
    }
}
