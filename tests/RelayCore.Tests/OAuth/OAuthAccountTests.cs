// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.OAuth;
using Xunit;

namespace RelayCore.Tests.OAuth;

public sealed class OAuthAccountTests : IDisposable
{
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "relay-oauth-" + Guid.NewGuid().ToString("N"))).FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task Microsoft365Account_SavedAndLoaded_AcquiresTokenWithoutAPerson()
    {
        using var endpoint = new TokenEndpoint();
        using HttpClient client = endpoint.CreateClient();
        string path = Path.Combine(_directory, "m365.json");
        Microsoft365Account(endpoint.AuthorityUrl).Save(path);
        OAuthAccount loaded = OAuthAccount.Load(path);
        loaded.Microsoft365.HttpClient = client;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        AccessToken token = await loaded.CreateProvider(null).GetTokenAsync(deadline.Token);

        Assert.Equal("printer@contoso.test", token.UserName);
        Assert.True(token.HasRole("SMTP.SendAsApp"));
        Assert.Equal(TokenEndpoint.ClientSecret, Assert.Single(endpoint.Forms)["client_secret"]);
    }

    [Fact]
    public void Save_OnUnix_CreatesOwnerOnlyFileWithTheSettings()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string path = Path.Combine(_directory, "m365.json");

        Microsoft365Account(new Uri("https://login.example.test/contoso")).Save(path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        string text = File.ReadAllText(path);
        Assert.Contains("\"kind\": \"Microsoft365\"", text);
        Assert.Contains("\"protection\": \"none\"", text);
        Assert.Contains("\"clientId\": \"" + TokenEndpoint.ClientId + "\"", text);
    }

    [Fact]
    public void Load_ReadableByOthers_RefusedNamingFileAndChmod()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string path = Path.Combine(_directory, "m365.json");
        Microsoft365Account(new Uri("https://login.example.test/contoso")).Save(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var error = Assert.Throws<OAuthAccountPermissionException>(() => OAuthAccount.Load(path));

        Assert.Equal(path, error.Path);
        Assert.Contains("chmod 600 " + path, error.Message);
        Assert.Contains("mode 644", error.Message);
        Assert.DoesNotContain(TokenEndpoint.ClientSecret, error.Message);
    }

    [Fact]
    public void Save_OverReadableFile_LeavesOwnerOnlyFile()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string path = Path.Combine(_directory, "m365.json");
        File.WriteAllText(path, "{}");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        Microsoft365Account(new Uri("https://login.example.test/contoso")).Save(path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.Single(Directory.GetFiles(_directory));
    }

    [Fact]
    public void Load_NotAnAccountFile_InvalidDataNamingFile()
    {
        string path = Path.Combine(_directory, "other.json");
        File.WriteAllText(path, "{\"format\": \"something-else\"}");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var error = Assert.Throws<InvalidDataException>(() => OAuthAccount.Load(path));

        Assert.Contains(path, error.Message);
    }

    [Fact]
    public async Task StaticAccount_RoundTrip_GivesTheSameToken()
    {
        string path = Path.Combine(_directory, "static.json");
        new OAuthAccount
        {
            Kind = OAuthProviderKind.Static,
            StaticUserName = "relay@example.test",
            StaticToken = OAuthAccount.Secure("opaque-token-1"),
        }.Save(path);

        AccessToken token = await OAuthAccount.Load(path).CreateProvider(null).GetTokenAsync(CancellationToken.None);

        Assert.Equal("opaque-token-1", token.Value);
        Assert.Equal("relay@example.test", token.UserName);
    }

    private static OAuthAccount Microsoft365Account(Uri authority) => new OAuthAccount
    {
        Kind = OAuthProviderKind.Microsoft365,
        Microsoft365 = new Microsoft365Options
        {
            TenantId = TokenEndpoint.Tenant,
            ClientId = TokenEndpoint.ClientId,
            ClientSecret = OAuthAccount.Secure(TokenEndpoint.ClientSecret),
            Mailbox = "printer@contoso.test",
            Authority = authority,
        },
    };
}
