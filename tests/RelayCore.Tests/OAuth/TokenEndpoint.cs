// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.Tests.OAuth;

/// <summary>How the test token endpoint answers token requests.</summary>
internal enum TokenEndpointMode
{
    /// <summary>Checks the client and grant and issues tokens.</summary>
    Issue,

    /// <summary>400 invalid_client with Microsoft's text for a wrong secret.</summary>
    InvalidClient,

    /// <summary>500 with an HTML body, as a broken front end answers.</summary>
    ServerError,
}

/// <summary>
/// An OAuth2 token endpoint over HTTPS on loopback (TcpListener + SslStream, HTTP/1.1, one request per
/// connection) with a certificate from a CA made at test time. It checks client secrets, verifies
/// client assertions (RFC 7523) against the client certificate, rotates refresh tokens, and issues
/// JWT-shaped access tokens with roles or scp claims; it counts every token request.
/// </summary>
internal sealed class TokenEndpoint : IDisposable
{
    internal const string Tenant = "contoso.test";
    internal const string ClientId = "11111111-2222-3333-4444-555555555555";
    internal const string ClientSecret = "the-client-secret~1";

    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromSeconds(10);

    private readonly TcpListener _listener;
    private readonly X509Certificate2 _serverCertificate;
    private readonly RSA _signingKey = RSA.Create(2048);
    private readonly CancellationTokenSource _stop = new CancellationTokenSource();
    private readonly Task _acceptLoop;
    private readonly ConcurrentQueue<Dictionary<string, string>> _forms = new ConcurrentQueue<Dictionary<string, string>>();
    private readonly ConcurrentQueue<string> _paths = new ConcurrentQueue<string>();
    private readonly object _gate = new object();
    private int _tokenRequests;
    private int _issued;
    private string _refreshToken = "refresh-0";
    private int _rotations;

    internal TokenEndpoint()
    {
        DateTimeOffset from = DateTimeOffset.UtcNow.AddMinutes(-5);
        DateTimeOffset to = DateTimeOffset.UtcNow.AddDays(1);
        using RSA caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Relay OAuth Test CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        Authority = caRequest.CreateSelfSigned(from, to);
        using RSA leafKey = RSA.Create(2048);
        var leafRequest = new CertificateRequest("CN=localhost", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        leafRequest.CertificateExtensions.Add(names.Build());
        leafRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        using X509Certificate2 leaf = leafRequest.Create(Authority, from, to, new byte[] { 7, 1 });
        // Through PKCS#12 so SslStream can use the key on every platform.
        _serverCertificate = X509CertificateLoader.LoadPkcs12(leaf.CopyWithPrivateKey(leafKey).Export(X509ContentType.Pkcs12), null);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The CA that signed the endpoint's certificate: clients trust it and nothing else.</summary>
    internal X509Certificate2 Authority { get; }

    internal int Port { get; }

    /// <summary>The Microsoft-style authority (MSAL appends /oauth2/v2.0/token).</summary>
    internal Uri AuthorityUrl => new Uri("https://localhost:" + Port + "/" + Tenant);

    /// <summary>The plain token endpoint for the refresh-token grant.</summary>
    internal Uri TokenUrl => new Uri("https://localhost:" + Port + "/token");

    internal TokenEndpointMode Mode { get; set; } = TokenEndpointMode.Issue;

    /// <summary>The <c>expires_in</c> of issued tokens, in seconds.</summary>
    internal int ExpiresIn { get; set; } = 3600;

    /// <summary>Whether each refresh-token grant issues a new refresh token (and retires the old one).</summary>
    internal bool RotateRefreshTokens { get; set; }

    /// <summary>The client certificate whose key must have signed client assertions; null to refuse assertions.</summary>
    internal X509Certificate2 ClientCertificate { get; set; }

    internal int TokenRequests => Volatile.Read(ref _tokenRequests);

    /// <summary>Called with every access token issued, before the answer is sent (a next hop's accepted tokens).</summary>
    internal Action<string> Issued { get; set; }

    /// <summary>When set, token requests are counted and then wait for it before they are answered.</summary>
    internal TaskCompletionSource Hold { get; set; }

    /// <summary>Every token request's form fields, in arrival order.</summary>
    internal IReadOnlyCollection<Dictionary<string, string>> Forms => _forms;

    /// <summary>Every path asked for, token requests and others.</summary>
    internal IReadOnlyCollection<string> Paths => _paths;

    /// <summary>The claims of the last client assertion whose signature verified; null when none did.</summary>
    internal JsonElement? VerifiedAssertion { get; private set; }

    /// <summary>Why the last malformed client assertion was refused.</summary>
    internal string AssertionFailure { get; private set; }

    internal string CurrentRefreshToken
    {
        get
        {
            lock (_gate)
            {
                return _refreshToken;
            }
        }
    }

    /// <summary>An HTTP client that trusts only the test CA (as an administrator's private CA would be trusted).</summary>
    internal HttpClient CreateClient() => CreateClient(Authority);

    /// <summary>An HTTP client that trusts only the given CA: bench/forward-agent's, for the endpoint bench/auth-sink runs.</summary>
    internal static HttpClient CreateClient(X509Certificate2 authority)
    {
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (sender, certificate, chain, errors) =>
        {
            if (certificate == null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
            {
                return false;
            }
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.Add(authority);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return custom.Build(new X509Certificate2(certificate));
        };
        return new HttpClient(handler);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _acceptLoop.Wait(s_requestTimeout);
        }
        catch (AggregateException)
        {
            // The loop ends with the listener's error; nothing to report.
        }
        _serverCertificate.Dispose();
        _signingKey.Dispose();
        Authority.Dispose();
        _stop.Dispose();
    }

    /// <summary>Issues a JWT-shaped access token: header, claims, RS256 signature by the endpoint's own key.</summary>
    internal string IssueJwt(string audience, string[] roles, string scope)
    {
        int number = Interlocked.Increment(ref _issued);
        var claims = new Dictionary<string, object>
        {
            ["aud"] = audience,
            ["iss"] = "https://localhost:" + Port + "/" + Tenant + "/",
            ["exp"] = DateTimeOffset.UtcNow.AddSeconds(ExpiresIn).ToUnixTimeSeconds(),
            ["jti"] = "token-" + number,
        };
        if (roles != null)
        {
            claims["roles"] = roles;
        }
        if (scope != null)
        {
            claims["scp"] = scope;
        }
        string signed = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new { alg = "RS256", typ = "JWT" })) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
        byte[] signature = _signingKey.SignData(Encoding.ASCII.GetBytes(signed), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return signed + "." + Base64Url(signature);
    }

    internal static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception error) when (error is OperationCanceledException || error is SocketException || error is ObjectDisposedException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
        {
            deadline.CancelAfter(s_requestTimeout);
            try
            {
                using var tls = new SslStream(client.GetStream());
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _serverCertificate }, deadline.Token);
                (string method, string path, string body) = await ReadRequestAsync(tls, deadline.Token);
                _paths.Enqueue(method + " " + path);
                bool isTokenRequest = method == "POST" && (path == "/token" || path.EndsWith("/oauth2/v2.0/token", StringComparison.Ordinal));
                (int status, string contentType, string answer) = isTokenRequest
                    ? Answer(path, ParseForm(body))
                    : (404, "application/json", "{\"error\":\"not_found\"}");
                if (isTokenRequest && Hold != null)
                {
                    await Hold.Task.WaitAsync(deadline.Token);
                }
                byte[] content = Encoding.UTF8.GetBytes(answer);
                string head = "HTTP/1.1 " + status + " " + (status == 200 ? "OK" : "Error") + "\r\nContent-Type: " + contentType
                    + "\r\nContent-Length: " + content.Length + "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
                await tls.WriteAsync(Encoding.ASCII.GetBytes(head), deadline.Token);
                await tls.WriteAsync(content, deadline.Token);
                await tls.FlushAsync(deadline.Token);
            }
            catch (Exception error) when (error is IOException || error is OperationCanceledException || error is System.Security.Authentication.AuthenticationException)
            {
                // A client that went away or a refused handshake: the test sees it on its side.
            }
        }
    }

    private (int Status, string ContentType, string Body) Answer(string path, Dictionary<string, string> form)
    {
        Interlocked.Increment(ref _tokenRequests);
        _forms.Enqueue(form);
        switch (Mode)
        {
            case TokenEndpointMode.InvalidClient:
                return Error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.");
            case TokenEndpointMode.ServerError:
                return (500, "text/html", "<html><body>upstream failure</body></html>");
        }
        form.TryGetValue("grant_type", out string grant);
        if (grant == "client_credentials")
        {
            return ClientCredentials(path, form);
        }
        if (grant == "refresh_token")
        {
            return RefreshToken(form);
        }
        return Error(400, "unsupported_grant_type", "The grant type '" + grant + "' is not supported.");
    }

    private (int, string, string) ClientCredentials(string path, Dictionary<string, string> form)
    {
        if (!form.TryGetValue("client_id", out string clientId) || clientId != ClientId)
        {
            return Error(400, "unauthorized_client", "AADSTS700016: Application with identifier '" + clientId + "' was not found in the directory.");
        }
        if (form.TryGetValue("client_assertion", out string assertion))
        {
            JsonElement? claims;
            try
            {
                claims = VerifyAssertion(assertion, "https://localhost:" + Port + path);
            }
            catch (Exception error) when (error is KeyNotFoundException || error is JsonException || error is FormatException || error is InvalidOperationException)
            {
                AssertionFailure = error.Message + " in " + assertion.Split('.')[0] + "." + assertion.Split('.')[1];
                claims = null;
            }
            if (claims == null)
            {
                return Error(401, "invalid_client", "AADSTS700027: Client assertion contains an invalid signature.");
            }
            VerifiedAssertion = claims;
        }
        else if (!form.TryGetValue("client_secret", out string secret) || secret != ClientSecret)
        {
            return Error(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
        }
        form.TryGetValue("scope", out string scope);
        string audience = (scope ?? string.Empty).Replace("/.default", string.Empty);
        return Token(IssueJwt(audience, new[] { "SMTP.SendAsApp" }, null), null);
    }

    private (int, string, string) RefreshToken(Dictionary<string, string> form)
    {
        if (!form.TryGetValue("client_id", out string clientId) || clientId != ClientId || !form.TryGetValue("client_secret", out string secret) || secret != ClientSecret)
        {
            return Error(401, "invalid_client", "The OAuth client was not found.");
        }
        string next = null;
        lock (_gate)
        {
            if (!form.TryGetValue("refresh_token", out string presented) || presented != _refreshToken)
            {
                return Error(400, "invalid_grant", "Token has been expired or revoked.");
            }
            if (RotateRefreshTokens)
            {
                _rotations++;
                _refreshToken = next = "refresh-" + _rotations;
            }
        }
        return Token(IssueJwt("https://mail.google.com/", null, "https://mail.google.com/"), next);
    }

    private (int, string, string) Token(string accessToken, string refreshToken)
    {
        Issued?.Invoke(accessToken);
        var body = new Dictionary<string, object> { ["access_token"] = accessToken, ["token_type"] = "Bearer", ["expires_in"] = ExpiresIn };
        if (refreshToken != null)
        {
            body["refresh_token"] = refreshToken;
        }
        return (200, "application/json", JsonSerializer.Serialize(body));
    }

    private static (int, string, string) Error(int status, string error, string description) =>
        (status, "application/json", JsonSerializer.Serialize(new Dictionary<string, string> { ["error"] = error, ["error_description"] = description }));

    /// <summary>Checks a client assertion (RFC 7523 section 3): signed by the client certificate's key, for this endpoint, not expired.</summary>
    private JsonElement? VerifyAssertion(string assertion, string endpoint)
    {
        X509Certificate2 certificate = ClientCertificate;
        string[] parts = assertion.Split('.');
        if (certificate == null || parts.Length != 3)
        {
            return null;
        }
        using JsonDocument header = JsonDocument.Parse(FromBase64Url(parts[0]));
        string algorithm = header.RootElement.GetProperty("alg").GetString();
        RSASignaturePadding padding = algorithm == "PS256" ? RSASignaturePadding.Pss : algorithm == "RS256" ? RSASignaturePadding.Pkcs1 : null;
        using RSA key = certificate.GetRSAPublicKey();
        if (padding == null)
        {
            AssertionFailure = "unknown alg " + algorithm;
            return null;
        }
        if (!key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), FromBase64Url(parts[2]), HashAlgorithmName.SHA256, padding))
        {
            AssertionFailure = "bad signature, header " + header.RootElement.GetRawText();
            return null;
        }
        using JsonDocument claims = JsonDocument.Parse(FromBase64Url(parts[1]));
        JsonElement root = claims.RootElement;
        bool valid = root.GetProperty("aud").GetString() == endpoint
            && root.GetProperty("iss").GetString() == ClientId
            && root.GetProperty("sub").GetString() == ClientId
            && header.RootElement.GetProperty("x5t#S256").GetString() == Base64Url(SHA256.HashData(certificate.RawData))
            && DateTimeOffset.FromUnixTimeSeconds(Seconds(root.GetProperty("exp"))) > DateTimeOffset.UtcNow;
        if (!valid)
        {
            AssertionFailure = "claims do not match " + endpoint + ": " + root.GetRawText();
            return null;
        }
        return root.Clone();
    }

    /// <summary>A NumericDate (RFC 7519 section 2); MSAL writes it as a JSON string.</summary>
    private static long Seconds(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? long.Parse(value.GetString(), System.Globalization.CultureInfo.InvariantCulture) : value.GetInt64();

    private static byte[] FromBase64Url(string text)
    {
        string base64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
    }

    private static Dictionary<string, string> ParseForm(string body)
    {
        var form = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in body.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = pair.IndexOf('=');
            string name = Uri.UnescapeDataString((equals < 0 ? pair : pair.Substring(0, equals)).Replace('+', ' '));
            form[name] = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair.Substring(equals + 1).Replace('+', ' '));
        }
        return form;
    }

    /// <summary>Reads a request line, headers and a Content-Length body (no chunked bodies: token clients send forms).</summary>
    private static async Task<(string Method, string Path, string Body)> ReadRequestAsync(Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int headerEnd = -1;
        while (headerEnd < 0)
        {
            int read = await stream.ReadAsync(chunk, cancellationToken);
            if (read == 0 || buffer.Length > 64 * 1024)
            {
                throw new IOException("The request ended before its headers.");
            }
            buffer.Write(chunk, 0, read);
            headerEnd = IndexOfHeaderEnd(buffer.GetBuffer(), (int)buffer.Length);
        }
        string head = Encoding.ASCII.GetString(buffer.GetBuffer(), 0, headerEnd);
        string[] lines = head.Split("\r\n");
        string[] requestLine = lines[0].Split(' ');
        int length = 0;
        foreach (string line in lines)
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line.Substring("Content-Length:".Length).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        int bodyStart = headerEnd + 4;
        while (buffer.Length - bodyStart < length)
        {
            int read = await stream.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                throw new IOException("The request ended inside its body.");
            }
            buffer.Write(chunk, 0, read);
        }
        string body = Encoding.UTF8.GetString(buffer.GetBuffer(), bodyStart, length);
        string path = requestLine[1];
        int query = path.IndexOf('?');
        return (requestLine[0], query < 0 ? path : path.Substring(0, query), body);
    }

    private static int IndexOfHeaderEnd(byte[] bytes, int length)
    {
        for (int i = 0; i + 3 < length; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i;
            }
        }
        return -1;
    }
}
