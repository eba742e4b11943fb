// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Management.Automation;
using System.Net;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RelayCmdlets.Tests.Host;
using Xunit;

namespace RelayCmdlets.Tests.OAuth;

/// <summary>New-RelayOAuthAccount and Get-RelayOAuthAccount in a real runspace: parameter sets, the file, its mode, and no secret anywhere shown.</summary>
public sealed class NewRelayOAuthAccountTests : IClassFixture<ModuleRunspace>, IDisposable
{
    private const string Secret = "client-secret-value~0123";
    private const string NewCommand = "RelayCmdlets.NewRelayOAuthAccountCommand";
    private const string Microsoft365 = "New-RelayOAuthAccount Microsoft365 -TenantId contoso.test -ClientId app-1 -ClientSecret $secret -Mailbox printer@contoso.test";

    private const string Summary = " | ForEach-Object { ($_.Provider, $_.UserName, $_.CredentialType, $_.ClientId, $_.Path, $_.UnixMode) -join '|' }";

    private readonly ModuleRunspace _shell;
    private readonly TempFolder _folder = new TempFolder();

    public NewRelayOAuthAccountTests(ModuleRunspace shell) => _shell = shell;

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Microsoft365Secret_WithPath_WritesOwnerOnlyFileAndReturnsItsSummary()
    {
        string path = Path.Combine(_folder.Path, "printer.json");

        PipelineResult result = Invoke(Microsoft365 + " -Path $path" + Summary, ("path", path));

        Assert.Empty(result.Errors);
        string unixMode = OperatingSystem.IsWindows() ? string.Empty : "-rw-------";
        Assert.Equal(new[] { "Microsoft365|printer@contoso.test|ClientSecret|app-1|" + path + "|" + unixMode }, result.OutputOf<string>());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void AccountObject_EveryPropertyAndToString_HoldNoSecret()
    {
        PipelineResult result = Invoke(
            "$a = " + Microsoft365 + " -Path $path; $a.ToString(); $a.PSObject.Properties | ForEach-Object { [string]$_.Value }",
            ("path", Path.Combine(_folder.Path, "printer.json")));

        Assert.Empty(result.Errors);
        Assert.True(result.Output.Count > 10, "every property was enumerated");
        Assert.All(result.Output, line => Assert.DoesNotContain(Secret, line?.ToString() ?? string.Empty, StringComparison.Ordinal));
        Assert.DoesNotContain(result.Verbose, line => line.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public void NoPath_ReturnsAnInMemoryAccountAndWritesNothing()
    {
        PipelineResult result = Invoke(Microsoft365 + " | ForEach-Object { $_.ToString() + '|' + ($null -eq $_.Path) }");

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { "Microsoft365 account printer@contoso.test (in memory)|True" }, result.OutputOf<string>());
        Assert.Empty(Directory.GetFiles(_folder.Path));
    }

    [Fact]
    public void ExistingFile_WithoutForce_IsOAuthAccountExistsAndLeftAsItWas()
    {
        string path = _folder.Write("printer.json", "keep me");

        PipelineResult result = Invoke(Microsoft365 + " -Path $path", ("path", path));

        Assert.Equal(new[] { "OAuthAccountExists," + NewCommand }, result.ErrorIds);
        Assert.Equal(ErrorCategory.ResourceExists, result.Errors[0].CategoryInfo.Category);
        Assert.Equal("keep me", File.ReadAllText(path));
    }

    [Fact]
    public void ExistingFile_WithForce_IsReplacedOwnerOnly()
    {
        string path = _folder.Write("printer.json", "old");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("644", 8));
        }

        PipelineResult result = Invoke(Microsoft365 + " -Path $path -Force", ("path", path));

        Assert.Empty(result.Errors);
        Assert.Contains("\"kind\": \"Microsoft365\"", File.ReadAllText(path), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void WhatIf_WritesNoFileAndReturnsNothing()
    {
        string path = Path.Combine(_folder.Path, "printer.json");

        PipelineResult result = Invoke(Microsoft365 + " -Path $path -WhatIf", ("path", path));

        Assert.Empty(result.Errors);
        Assert.Empty(result.Output);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void FolderMissing_IsOAuthAccountFolderNotFound()
    {
        string missing = Path.Combine(_folder.Path, "missing");

        PipelineResult result = Invoke(Microsoft365 + " -Path $path", ("path", Path.Combine(missing, "printer.json")));

        Assert.Equal(new[] { "OAuthAccountFolderNotFound," + NewCommand }, result.ErrorIds);
        Assert.Equal(missing, result.Errors[0].TargetObject);
        Assert.False(Directory.Exists(missing));
    }

    [Fact]
    public void FolderWritableByOthers_IsRefusedAndNothingWritten()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string shared = Directory.CreateDirectory(Path.Combine(_folder.Path, "shared")).FullName;
        File.SetUnixFileMode(shared, (UnixFileMode)Convert.ToInt32("777", 8));

        PipelineResult result = Invoke(Microsoft365 + " -Path $path", ("path", Path.Combine(shared, "printer.json")));

        Assert.Equal(new[] { "OAuthAccountFolderNotPrivate," + NewCommand }, result.ErrorIds);
        Assert.Equal(ErrorCategory.PermissionDenied, result.Errors[0].CategoryInfo.Category);
        Assert.Empty(Directory.GetFiles(shared));
    }

    [Fact]
    public void ProviderDisagreesWithParameters_IsInvalidOAuthAccountParameters()
    {
        PipelineResult result = Invoke(Microsoft365.Replace("Microsoft365 -Tenant", "RefreshToken -Tenant", StringComparison.Ordinal));

        Assert.Equal(new[] { "InvalidOAuthAccountParameters," + NewCommand }, result.ErrorIds);
        Assert.Contains("RefreshToken takes -ClientId, -RefreshToken", result.Errors[0].Exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("New-RelayOAuthAccount Microsoft365 -TenantId t -ClientId c -ClientSecret 'plain text' -Mailbox m@x.test")]
    [InlineData("New-RelayOAuthAccount RefreshToken -ClientId c -RefreshToken 'plain text' -UserName u@x.test")]
    public void SecretAsPlainString_IsAParameterBindingError(string script)
    {
        PipelineResult result = Invoke(script);

        Assert.Equal(new[] { "CannotConvertArgumentNoMessage," + NewCommand }, result.ErrorIds);
        Assert.Equal(ErrorCategory.InvalidArgument, result.Errors[0].CategoryInfo.Category);
    }

    [Fact]
    public void CertificateAndSecretTogether_IsAmbiguousParameterSet()
    {
        PipelineResult result = Invoke(Microsoft365 + " -CertificatePath $path", ("path", _folder.Write("c.pfx", "x")));

        Assert.Single(result.Errors);
        Assert.StartsWith("AmbiguousParameterSet", result.ErrorIds[0], StringComparison.Ordinal);
    }

    [Fact]
    public void CertificateWrongPassword_IsOAuthAccountInvalidWithoutThePassword()
    {
        const string Password = "pfx-password~4711";
        string pfx = Path.Combine(_folder.Path, "app.pfx");
        using (RSA key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=Relay app", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pkcs12, Password));
        }

        PipelineResult result = Invoke(
            "New-RelayOAuthAccount Microsoft365 -TenantId t -ClientId c -CertificatePath $pfx -CertificatePassword $wrong -Mailbox m@x.test -Path $path",
            ("pfx", pfx),
            ("wrong", Secure(Password + "-wrong")),
            ("path", Path.Combine(_folder.Path, "app.json")));

        Assert.Equal(new[] { "OAuthAccountInvalid," + NewCommand }, result.ErrorIds);
        Assert.DoesNotContain(Password, result.Errors[0].ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_folder.Path, "app.json")));
    }

    [Fact]
    public void StaticAndRefreshToken_RoundTripThroughGetRelayOAuthAccount()
    {
        PipelineResult result = Invoke(
            "$null = New-RelayOAuthAccount Static -Credential $credential -Path $static;" +
            "$null = New-RelayOAuthAccount RefreshToken -ClientId gmail-client -ClientSecret $secret -RefreshToken $secret -UserName scanner@gmail.test -Path $refresh;" +
            "$static, $refresh | Get-RelayOAuthAccount | ForEach-Object { ($_.Provider, $_.UserName, $_.CredentialType, $_.TokenEndpoint) -join '|' }",
            ("credential", new PSCredential("relay@example.test", Secure("opaque-token"))),
            ("static", Path.Combine(_folder.Path, "a-static.json")),
            ("refresh", Path.Combine(_folder.Path, "b-refresh.json")));

        Assert.Empty(result.Errors);
        Assert.Equal(
            new[] { "Static|relay@example.test|StaticToken|", "RefreshToken|scanner@gmail.test|RefreshToken|https://oauth2.googleapis.com/token" },
            result.OutputOf<string>());
    }

    [Fact]
    public void GetRelayOAuthAccount_FileReadableByOthers_IsOAuthAccountNotPrivateNamingChmod()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string path = Path.Combine(_folder.Path, "printer.json");
        Assert.Empty(Invoke(Microsoft365 + " -Path $path", ("path", path)).Errors);
        File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32("644", 8));

        PipelineResult result = Invoke("Get-RelayOAuthAccount -Path $path", ("path", path));

        Assert.Equal(new[] { "OAuthAccountNotPrivate,RelayCmdlets.GetRelayOAuthAccountCommand" }, result.ErrorIds);
        Assert.Equal(path, result.Errors[0].TargetObject);
        Assert.Contains("chmod 600", result.Errors[0].Exception.Message, StringComparison.Ordinal);
        Assert.Empty(result.Output);
    }

    private PipelineResult Invoke(string script, params (string Name, object Value)[] variables) =>
        _shell.Invoke(script, [("secret", Secure(Secret)), .. variables]);

    private static SecureString Secure(string text) => new NetworkCredential(string.Empty, text).SecurePassword;
}
