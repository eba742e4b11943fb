// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Linq;
using System.Net.Http;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.OAuth;
using Xunit;

namespace RelayCore.Tests.OAuth;

public sealed class Microsoft365TokenProviderTests : IDisposable
{
    private const string Mailbox = "printer@contoso.test";

    private readonly TokenEndpoint _endpoint = new TokenEndpoint();
    private readonly HttpClient _client;
    private readonly CancellationTokenSource _deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));

    public Microsoft365TokenProviderTests() => _client = _endpoint.CreateClient();

    public void Dispose()
    {
        _client.Dispose();
        _endpoint.Dispose();
        _deadline.Dispose();
    }

    [Fact]
    public async Task ClientSecret_EndpointIssues_TokenForMailboxWithSendAsAppRole()
    {
        Microsoft365TokenProvider provider = SecretProvider(TokenEndpoint.ClientSecret);

        AccessToken token = await provider.GetTokenAsync(_deadline.Token);

        Assert.Equal(Mailbox, token.UserName);
        Assert.True(token.HasRole("SMTP.SendAsApp"));
        Assert.Equal("https://outlook.office365.com", token.Audience);
        Assert.InRange(token.ExpiresOn, DateTimeOffset.UtcNow.AddMinutes(55), DateTimeOffset.UtcNow.AddMinutes(61));
        var form = Assert.Single(_endpoint.Forms);
        Assert.Equal("client_credentials", form["grant_type"]);
        Assert.Equal(TokenEndpoint.ClientSecret, form["client_secret"]);
        Assert.Contains(Microsoft365Options.DefaultScope, form["scope"]);
    }

    [Theory]
    [InlineData("cert.pfx", Hosting.TestCertificate.PfxPassword)]
    [InlineData("combined.pem", null)]
    public async Task CertificateFile_EndpointVerifiesAssertion_SignedWithTheCertificateKey(string file, string password)
    {
        string directory = System.IO.Directory.CreateDirectory(System.IO.Path.Combine(System.IO.Path.GetTempPath(), "relay-app-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            Hosting.TestCertificate files = Hosting.TestCertificate.Create(directory);
            using X509Certificate2 certificate = X509CertificateLoader.LoadCertificateFromFile(files.CertificatePemPath);
            _endpoint.ClientCertificate = certificate;
            var provider = new Microsoft365TokenProvider(Options(o =>
            {
                o.CertificatePath = System.IO.Path.Combine(directory, file);
                o.CertificatePassword = password == null ? null : OAuthAccount.Secure(password);
            }));

            AccessToken token = await provider.GetTokenAsync(_deadline.Token);

            Assert.Null(_endpoint.AssertionFailure);
            Assert.True(token.HasRole("SMTP.SendAsApp"));
            var form = Assert.Single(_endpoint.Forms);
            Assert.Equal("urn:ietf:params:oauth:client-assertion-type:jwt-bearer", form["client_assertion_type"]);
            Assert.False(form.ContainsKey("client_secret"));
            Assert.NotNull(_endpoint.VerifiedAssertion);
            Assert.Contains(certificate.Thumbprint, provider.Description);
        }
        finally
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task CertificateThumbprint_InCurrentUserStore_SignsAssertion()
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=relay-app-store-" + Guid.NewGuid().ToString("N"), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using X509Certificate2 persisted = X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pkcs12), null, X509KeyStorageFlags.PersistKeySet | X509KeyStorageFlags.Exportable);
        _endpoint.ClientCertificate = X509CertificateLoader.LoadCertificate(created.RawData);
        using var store = new X509Store(StoreName.My, StoreLocation.CurrentUser);
        store.Open(OpenFlags.ReadWrite);
        store.Add(persisted);
        try
        {
            var provider = new Microsoft365TokenProvider(Options(o => o.CertificateThumbprint = created.Thumbprint));

            AccessToken token = await provider.GetTokenAsync(_deadline.Token);

            Assert.True(token.HasRole("SMTP.SendAsApp"));
            Assert.NotNull(_endpoint.VerifiedAssertion);
        }
        finally
        {
            store.Remove(persisted);
        }
    }

    [Fact]
    public async Task ThousandCalls_FromFourTasks_OneTokenRequest()
    {
        Microsoft365TokenProvider provider = SecretProvider(TokenEndpoint.ClientSecret);

        AccessToken[][] results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var tokens = new AccessToken[250];
            for (int i = 0; i < tokens.Length; i++)
            {
                tokens[i] = await provider.GetTokenAsync(_deadline.Token);
            }
            return tokens;
        })));

        Assert.Equal(1, _endpoint.TokenRequests);
        Assert.Single(results.SelectMany(t => t).Select(t => t.Value).Distinct());
    }

    [Fact]
    public async Task WithinRenewalMargin_RenewsInBackground_LaterCallsGetTheNewToken()
    {
        (Microsoft365TokenProvider provider, TestClock clock, AccessToken first) = await FirstTokenAsync();
        clock.Now = first.ExpiresOn - TimeSpan.FromMinutes(6);
        AccessToken beforeMargin = await provider.GetTokenAsync(_deadline.Token);

        clock.Now = first.ExpiresOn - TimeSpan.FromMinutes(4);
        AccessToken duringRenewal = await provider.GetTokenAsync(_deadline.Token);
        AccessToken renewed = duringRenewal;
        await Hosting.TestServer.WaitUntilAsync(
            () => (renewed = provider.GetTokenAsync(_deadline.Token).GetAwaiter().GetResult()).Value != first.Value,
            "the renewed token was handed out");

        Assert.Same(first, beforeMargin);
        Assert.Same(first, duringRenewal);
        Assert.True(renewed.HasRole("SMTP.SendAsApp"));
        Assert.Equal(2, _endpoint.TokenRequests);
    }

    [Fact]
    public async Task WithinRenewalMargin_EndpointSlow_CallersKeepTheValidToken()
    {
        (Microsoft365TokenProvider provider, TestClock clock, AccessToken first) = await FirstTokenAsync();
        _endpoint.Hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        clock.Now = first.ExpiresOn - TimeSpan.FromMinutes(4);

        AccessToken[] meanwhile = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => provider.GetTokenAsync(_deadline.Token)));
        await Hosting.TestServer.WaitUntilAsync(() => _endpoint.TokenRequests == 2, "the renewal reached the endpoint");
        _endpoint.Hold.SetResult();

        Assert.All(meanwhile, token => Assert.Same(first, token));
    }

    [Fact]
    public async Task CloseToExpiry_CallersWaitForTheNewToken()
    {
        (Microsoft365TokenProvider provider, TestClock clock, AccessToken first) = await FirstTokenAsync();

        clock.Now = first.ExpiresOn - TimeSpan.FromMinutes(2);
        AccessToken renewed = await provider.GetTokenAsync(_deadline.Token);

        Assert.NotEqual(first.Value, renewed.Value);
        Assert.Equal(2, _endpoint.TokenRequests);
    }

    [Fact]
    public async Task ShortLifetime_QuarterBeforeExpiry_Renews()
    {
        _endpoint.ExpiresIn = 120;
        (Microsoft365TokenProvider provider, TestClock clock, AccessToken first) = await FirstTokenAsync();

        clock.Now = first.ExpiresOn - TimeSpan.FromSeconds(10);
        AccessToken renewed = await provider.GetTokenAsync(_deadline.Token);

        Assert.NotEqual(first.Value, renewed.Value);
        Assert.Equal(2, _endpoint.TokenRequests);
    }

    [Fact]
    public async Task Invalidate_ManyCallersAfter_ExactlyOneNewAcquisition()
    {
        Microsoft365TokenProvider provider = SecretProvider(TokenEndpoint.ClientSecret);
        AccessToken rejected = await provider.GetTokenAsync(_deadline.Token);

        provider.Invalidate(rejected);
        AccessToken[] after = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ => Task.Run(() => provider.GetTokenAsync(_deadline.Token))));

        Assert.Equal(2, _endpoint.TokenRequests);
        string renewed = Assert.Single(after.Select(t => t.Value).Distinct());
        Assert.NotEqual(rejected.Value, renewed);
    }

    [Fact]
    public async Task Invalidate_TokenAlreadyReplaced_KeepsTheNewOne()
    {
        Microsoft365TokenProvider provider = SecretProvider(TokenEndpoint.ClientSecret);
        AccessToken rejected = await provider.GetTokenAsync(_deadline.Token);
        provider.Invalidate(rejected);
        AccessToken renewed = await provider.GetTokenAsync(_deadline.Token);

        provider.Invalidate(rejected);
        AccessToken again = await provider.GetTokenAsync(_deadline.Token);

        Assert.Same(renewed, again);
        Assert.Equal(2, _endpoint.TokenRequests);
    }

    [Fact]
    public async Task WrongSecret_InvalidClient_CarriesEndpointTextAndRemedyWithoutSecret()
    {
        Microsoft365TokenProvider provider = SecretProvider("wrong-secret-value");

        var error = await Assert.ThrowsAsync<TokenAcquisitionException>(() => provider.GetTokenAsync(_deadline.Token));

        Assert.Equal("invalid_client", error.Error);
        Assert.Contains("AADSTS7000215: Invalid client secret provided", error.ErrorDescription);
        Assert.Equal(401, error.StatusCode);
        Assert.False(error.IsRetryable);
        Assert.Contains("client secret is wrong or expired", error.Message);
        Assert.DoesNotContain("wrong-secret-value", error.ToString());
        Assert.DoesNotContain("wrong-secret-value", provider.Description);
    }

    [Fact]
    public async Task FailedAcquisition_AskedAgainWithinHold_NoNewRequest()
    {
        _endpoint.Mode = TokenEndpointMode.InvalidClient;
        Microsoft365TokenProvider provider = SecretProvider(TokenEndpoint.ClientSecret);
        TestClock clock = TestClock.Drive(provider);
        await Assert.ThrowsAsync<TokenAcquisitionException>(() => provider.GetTokenAsync(_deadline.Token));
        int afterFirst = _endpoint.TokenRequests;

        await Assert.ThrowsAsync<TokenAcquisitionException>(() => provider.GetTokenAsync(_deadline.Token));
        int withinHold = _endpoint.TokenRequests;
        _endpoint.Mode = TokenEndpointMode.Issue;
        clock.Now += provider.FailureHoldTime;
        AccessToken token = await provider.GetTokenAsync(_deadline.Token);

        Assert.Equal(afterFirst, withinHold);
        Assert.Equal(afterFirst + 1, _endpoint.TokenRequests);
        Assert.True(token.HasRole("SMTP.SendAsApp"));
    }

    [Fact]
    public async Task ServerError_Http500_IsRetryable()
    {
        _endpoint.Mode = TokenEndpointMode.ServerError;
        Microsoft365TokenProvider provider = SecretProvider(TokenEndpoint.ClientSecret);

        var error = await Assert.ThrowsAsync<TokenAcquisitionException>(() => provider.GetTokenAsync(_deadline.Token));

        Assert.True(error.IsRetryable);
        Assert.Equal(500, error.StatusCode);
        Assert.Contains("trying later may help", error.Remedy);
    }

    [Fact]
    public async Task EndpointUnreachable_IsRetryableNetworkFailure()
    {
        var closed = new TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        int port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var provider = new Microsoft365TokenProvider(Options(o =>
        {
            o.ClientSecret = OAuthAccount.Secure(TokenEndpoint.ClientSecret);
            o.Authority = new Uri("https://localhost:" + port + "/" + TokenEndpoint.Tenant);
        }));

        var error = await Assert.ThrowsAsync<TokenAcquisitionException>(() => provider.GetTokenAsync(_deadline.Token));

        Assert.Equal("unreachable", error.Error);
        Assert.True(error.IsRetryable);
        Assert.Null(error.StatusCode);
    }

    [Theory]
    [InlineData(MicrosoftCloud.Worldwide, "https://login.microsoftonline.com/contoso.test")]
    [InlineData(MicrosoftCloud.UsGovernment, "https://login.microsoftonline.us/contoso.test")]
    [InlineData(MicrosoftCloud.China, "https://login.chinacloudapi.cn/contoso.test")]
    public void Cloud_WithoutAuthority_DescribesThatCloudsAuthority(MicrosoftCloud cloud, string authority)
    {
        var provider = new Microsoft365TokenProvider(new Microsoft365Options
        {
            TenantId = TokenEndpoint.Tenant,
            ClientId = TokenEndpoint.ClientId,
            ClientSecret = OAuthAccount.Secure(TokenEndpoint.ClientSecret),
            Mailbox = Mailbox,
            Cloud = cloud,
        });

        Assert.EndsWith("authority " + authority, provider.Description);
    }

    [Theory]
    [InlineData(MicrosoftCloud.Worldwide, "https://outlook.office365.com/.default")]
    [InlineData(MicrosoftCloud.UsGovernment, "https://outlook.office365.us/.default")]
    [InlineData(MicrosoftCloud.China, "https://partner.outlook.cn/.default")]
    public async Task Cloud_NoScopeGiven_AsksForThatCloudsExchangeOnline(MicrosoftCloud cloud, string scope)
    {
        Microsoft365TokenProvider provider = new Microsoft365TokenProvider(Options(o =>
        {
            o.Cloud = cloud;
            o.ClientSecret = OAuthAccount.Secure(TokenEndpoint.ClientSecret);
        }));

        await provider.GetTokenAsync(_deadline.Token);

        Assert.Contains(scope, Assert.Single(_endpoint.Forms)["scope"].Split(' '));
    }

    [Fact]
    public void SecretAndCertificate_Both_Refused()
    {
        Microsoft365Options options = Options(o =>
        {
            o.ClientSecret = OAuthAccount.Secure(TokenEndpoint.ClientSecret);
            o.CertificateThumbprint = "00";
        });

        Assert.Throws<ArgumentException>(() => new Microsoft365TokenProvider(options));
    }

    private async Task<(Microsoft365TokenProvider Provider, TestClock Clock, AccessToken First)> FirstTokenAsync()
    {
        Microsoft365TokenProvider provider = SecretProvider(TokenEndpoint.ClientSecret);
        TestClock clock = TestClock.Drive(provider);
        return (provider, clock, await provider.GetTokenAsync(_deadline.Token));
    }

    private Microsoft365TokenProvider SecretProvider(string secret) =>
        new Microsoft365TokenProvider(Options(o => o.ClientSecret = OAuthAccount.Secure(secret)));

    private Microsoft365Options Options(Action<Microsoft365Options> set)
    {
        var options = new Microsoft365Options
        {
            TenantId = TokenEndpoint.Tenant,
            ClientId = TokenEndpoint.ClientId,
            Mailbox = Mailbox,
            Authority = _endpoint.AuthorityUrl,
            HttpClient = _client,
        };
        set(options);
        return options;
    }
}
