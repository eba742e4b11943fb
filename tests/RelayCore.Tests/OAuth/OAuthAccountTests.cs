// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
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
    public void Load_SecretWithoutQuotes_ErrorGivesThePlaceNotTheSecret()
    {
        // System.Text.Json quotes a bad literal (one starting like true, false or null) in its message.
        string path = Path.Combine(_directory, "hand-edited.json");
        File.WriteAllText(path, "{\"format\": \"relay-oauth-account/1\", \"secrets\": {\"clientSecret\": tSECRET-hand-edited-without-quotes}}");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        var error = Assert.Throws<InvalidDataException>(() => OAuthAccount.Load(path));

        Assert.DoesNotContain("SECRET", error.ToString());
        Assert.Contains(path, error.Message);
        Assert.Contains("line 1", error.Message);
    }

    [Fact]
    public async Task StaticAccount_RoundTrip_GivesTheSameToken()
    {
        string path = Path.Combine(_directory, "static.json");
        Static("relay@example.test", "opaque-token-1").Save(path);

        AccessToken token = await OAuthAccount.Load(path).CreateProvider(null).GetTokenAsync(CancellationToken.None);

        Assert.Equal("opaque-token-1", token.Value);
        Assert.Equal("relay@example.test", token.UserName);
    }

    [Fact]
    public async Task AccountSet_TwoSelectors_EachItsOwnMailboxAndOneProviderEach()
    {
        string printer = Path.Combine(_directory, "printer.json");
        string scanner = Path.Combine(_directory, "scanner.json");
        Static("printer@example.test", "token-printer").Save(printer);
        Static("scanner@example.test", "token-scanner").Save(scanner);
        var fallback = new StaticTokenProvider("relay@example.test", OAuthAccount.Secure("token-default"));

        using var set = new OAuthAccountSet(fallback, new Dictionary<string, string> { ["printer"] = printer, ["scanner"] = scanner }, null);

        Assert.True(set.TryFind("printer", out IAccessTokenProvider first));
        Assert.True(set.TryFind("printer", out IAccessTokenProvider again));
        Assert.True(set.TryFind("scanner", out IAccessTokenProvider other));
        Assert.True(set.TryFind(null, out IAccessTokenProvider unselected));
        Assert.False(set.TryFind("fax", out _));
        Assert.Same(first, again);
        Assert.Equal("printer@example.test", (await first.GetTokenAsync(CancellationToken.None)).UserName);
        Assert.Equal("scanner@example.test", (await other.GetTokenAsync(CancellationToken.None)).UserName);
        Assert.Same(fallback, unselected);
    }

    [Fact]
    public void AccountSet_MissingFile_FailsAtConstruction()
    {
        var paths = new Dictionary<string, string> { ["printer"] = Path.Combine(_directory, "missing.json") };

        Assert.Throws<FileNotFoundException>(() => new OAuthAccountSet(null, paths, null));
    }

    [Fact]
    public void ProtectionEntropy_SavedAndLoaded_SameForTheFileAsWritten()
    {
        string path = Path.Combine(_directory, "printer.json");
        OAuthAccount saved = Microsoft365Account(new Uri("https://login.example.test/contoso"));
        saved.Save(path);

        OAuthAccount loaded = OAuthAccount.Load(path);

        Assert.Equal(saved.ProtectionEntropy(), loaded.ProtectionEntropy());
    }

    [Theory]
    [InlineData("authority")]
    [InlineData("tenant")]
    [InlineData("client")]
    [InlineData("mailbox")]
    public void ProtectionEntropy_Microsoft365SettingChanged_DiffersSoDpapiSecretsDoNotFollow(string setting)
    {
        OAuthAccount original = Microsoft365Account(new Uri("https://login.example.test/contoso"));
        OAuthAccount changed = Microsoft365Account(new Uri("https://login.example.test/contoso"));
        switch (setting)
        {
            case "authority": changed.Microsoft365.Authority = new Uri("https://attacker.example.test/contoso"); break;
            case "tenant": changed.Microsoft365.TenantId = "fabrikam.onmicrosoft.com"; break;
            case "client": changed.Microsoft365.ClientId = "attacker-registered-app"; break;
            default: changed.Microsoft365.Mailbox = "ceo@contoso.test"; break;
        }

        Assert.NotEqual(original.ProtectionEntropy(), changed.ProtectionEntropy());
    }

    [Fact]
    public void ProtectionEntropy_RefreshTokenEndpointChanged_DiffersAndHoldsNoSecret()
    {
        OAuthAccount original = RefreshAccount(new Uri("https://oauth2.example.test/token"));
        OAuthAccount changed = RefreshAccount(new Uri("https://attacker.example.test/token"));

        byte[] entropy = original.ProtectionEntropy();

        Assert.NotEqual(entropy, changed.ProtectionEntropy());
        string text = System.Text.Encoding.UTF8.GetString(entropy);
        Assert.DoesNotContain("client-secret-value", text);
        Assert.DoesNotContain("refresh-token-value", text);
    }

    private static OAuthAccount RefreshAccount(Uri endpoint) => new OAuthAccount
    {
        Kind = OAuthProviderKind.RefreshToken,
        RefreshToken = new RefreshTokenOptions
        {
            TokenEndpoint = endpoint,
            ClientId = "relay-client",
            ClientSecret = OAuthAccount.Secure("client-secret-value"),
            RefreshToken = OAuthAccount.Secure("refresh-token-value"),
            UserName = "scanner@example.test",
        },
    };

    private static OAuthAccount Static(string user, string token) => new OAuthAccount
    {
        Kind = OAuthProviderKind.Static,
        StaticUserName = user,
        StaticToken = OAuthAccount.Secure(token),
    };

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
