// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Threading.Tasks;
using RelayCmdlets.Tests.Host;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.OAuth;

/// <summary>
/// The OAuth parameters of the forwarding cmdlets (-OAuthAccountPath, -OAuthAccount, -OAuthAccountBySelector):
/// static-token accounts against the XOAUTH2-checking aiosmtpd next hop, and the wrong combinations.
/// </summary>
public sealed class OAuthForwardingParameterTests : IClassFixture<ModuleRunspace>, IDisposable
{
    private const string ForwardCommand = "RelayCmdlets.InvokeRelayForwardCommand";

    private readonly ModuleRunspace _shell;
    private readonly ITestOutputHelper _output;
    private readonly TempFolder _folder = new TempFolder();
    private readonly string _spool;

    public OAuthForwardingParameterTests(ModuleRunspace shell, ITestOutputHelper output)
    {
        _shell = shell;
        _output = output;
        _spool = Path.Combine(_folder.Path, "spool");
    }

    public void Dispose() => _folder.Dispose();

    [Fact]
    public async Task OAuthAccountBySelector_TwoDevices_EachSendsAsItsOwnMailbox()
    {
        await using AuthNextHop hop = await StartHopAsync("--oauth", "printer@contoso.test:token-printer", "--oauth", "scanner@contoso.test:token-scanner");
        if (hop == null)
        {
            return;
        }
        string printer = SaveStaticAccount("printer.json", "printer@contoso.test", "token-printer");
        Submit("printer", "from-printer@example.com");
        Submit("scanner", "from-scanner@example.com");

        PipelineResult result = _shell.Invoke(
            "Invoke-RelayForward -SpoolPath $spool -To $hop -ClientTls None -OAuthAccountBySelector @{ printer = $printer; scanner = $scanner }",
            ("spool", _spool),
            ("hop", "127.0.0.1:" + hop.Port),
            ("printer", printer),
            ("scanner", StaticAccountObject("scanner@contoso.test", "token-scanner")));

        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors) + "\n" + hop.Output);
        Assert.Equal(
            new[] { "from-printer@example.com>printer@contoso.test", "from-scanner@example.com>scanner@contoso.test" },
            hop.Events("message").Select(m => m.GetProperty("rcpt_tos")[0].GetString() + ">" + m.GetProperty("auth_user").GetString()).OrderBy(line => line, StringComparer.Ordinal));
    }

    [Fact]
    public async Task OAuthAccount_InMemoryStaticAccount_SendsWithXOAuth2()
    {
        await using AuthNextHop hop = await StartHopAsync("--oauth", "relay@contoso.test:token-relay");
        if (hop == null)
        {
            return;
        }
        Submit(null, "someone@example.com");

        PipelineResult result = _shell.Invoke(
            "Invoke-RelayForward -SpoolPath $spool -To $hop -ClientTls None -OAuthAccount (New-RelayOAuthAccount Static -Credential $credential) -Verbose",
            ("spool", _spool),
            ("hop", "127.0.0.1:" + hop.Port),
            ("credential", new PSCredential("relay@contoso.test", Secure("token-relay"))));

        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors) + "\n" + hop.Output);
        JsonElement login = Assert.Single(hop.Events("auth"));
        Assert.Equal(("XOAUTH2", "relay@contoso.test", true), (login.GetProperty("mechanism").GetString(), login.GetProperty("user").GetString(), login.GetProperty("ok").GetBoolean()));
        Assert.Contains(result.Verbose, line => line.StartsWith("OAuth2 account for messages without a ClientAccountSelector: static OAuth2 token for relay@contoso.test", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Verbose.Concat(result.Warnings), line => line.Contains("token-relay", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TestRelayConnection_OAuthAccountPath_LogsInWithXOAuth2()
    {
        await using AuthNextHop hop = await StartHopAsync("--oauth", "relay@contoso.test:token-relay");
        if (hop == null)
        {
            return;
        }
        string account = SaveStaticAccount("relay.json", "relay@contoso.test", "token-relay");

        PipelineResult result = _shell.Invoke("Test-RelayConnection -To $hop -ClientTls None -OAuthAccountPath $account -Quiet", ("hop", "127.0.0.1:" + hop.Port), ("account", account));

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { true }, result.OutputOf<bool>());
        Assert.Equal(new[] { "XOAUTH2" }, hop.Events("auth").Select(login => login.GetProperty("mechanism").GetString()));
    }

    [Fact]
    public async Task TestRelayConnection_AccountSelectorWithOAuthAccountBySelector_LogsInAsThatSelectorsMailbox()
    {
        await using AuthNextHop hop = await StartHopAsync("--oauth", "printer@contoso.test:token-printer", "--oauth", "scanner@contoso.test:token-scanner");
        if (hop == null)
        {
            return;
        }

        PipelineResult result = _shell.Invoke(
            "Test-RelayConnection -To $hop -ClientTls None -AccountSelector scanner -OAuthAccountBySelector @{ printer = $printer; scanner = $scanner } -Quiet",
            ("hop", "127.0.0.1:" + hop.Port),
            ("printer", SaveStaticAccount("printer.json", "printer@contoso.test", "token-printer")),
            ("scanner", SaveStaticAccount("scanner.json", "scanner@contoso.test", "token-scanner")));

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { true }, result.OutputOf<bool>());
        Assert.Equal(new[] { "scanner@contoso.test" }, hop.Events("auth").Select(login => login.GetProperty("user").GetString()));
    }

    [Fact]
    public void OAuthAccountPathAndOAuthAccount_IsInvalidForwardingParameters()
    {
        string account = SaveStaticAccount("relay.json", "relay@contoso.test", "token");

        PipelineResult result = _shell.Invoke(
            "Invoke-RelayForward -SpoolPath $spool -To 127.0.0.1:25 -OAuthAccountPath $account -OAuthAccount (Get-RelayOAuthAccount $account)",
            ("spool", _spool),
            ("account", account));

        Assert.Equal(new[] { "InvalidForwardingParameters," + ForwardCommand }, result.ErrorIds);
        Assert.Equal("OAuthAccount", result.Errors[0].TargetObject);
    }

    [Fact]
    public void OAuthTokenAndOAuthAccountPath_IsInvalidForwardingParameters()
    {
        string account = SaveStaticAccount("relay.json", "relay@contoso.test", "token");

        PipelineResult result = _shell.Invoke(
            "Invoke-RelayForward -SpoolPath $spool -To 127.0.0.1:25 -OAuthAccountPath $account -OAuthToken $token",
            ("spool", _spool),
            ("account", account),
            ("token", Secure("other")));

        Assert.Equal(new[] { "InvalidForwardingParameters," + ForwardCommand }, result.ErrorIds);
        Assert.Equal("OAuthToken", result.Errors[0].TargetObject);
    }

    [Fact]
    public void OAuthAccountPath_NoSuchFile_IsOAuthAccountNotFound()
    {
        string missing = Path.Combine(_folder.Path, "missing.json");

        PipelineResult result = _shell.Invoke("Invoke-RelayForward -SpoolPath $spool -To 127.0.0.1:25 -OAuthAccountPath $account", ("spool", _spool), ("account", missing));

        Assert.Equal(new[] { "OAuthAccountNotFound," + ForwardCommand }, result.ErrorIds);
        Assert.Equal(missing, result.Errors[0].TargetObject);
    }

    [Fact]
    public void OAuthAccountPath_FileReadableByOthers_IsOAuthAccountNotPrivateAndNothingForwarded()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }
        string account = SaveStaticAccount("relay.json", "relay@contoso.test", "token");
        File.SetUnixFileMode(account, File.GetUnixFileMode(account) | UnixFileMode.OtherRead);
        Submit(null, "someone@example.com");

        PipelineResult result = _shell.Invoke("Invoke-RelayForward -SpoolPath $spool -To 127.0.0.1:25 -OAuthAccountPath $account", ("spool", _spool), ("account", account));

        Assert.Equal(new[] { "OAuthAccountNotPrivate," + ForwardCommand }, result.ErrorIds);
        Assert.Equal((ErrorCategory.PermissionDenied, (object)account), (result.Errors[0].CategoryInfo.Category, result.Errors[0].TargetObject));
        Assert.Single(Directory.GetFiles(_spool, "*.envelope"));
    }

    [Fact]
    public void OAuthAccount_CertificateFileGoneSinceCreated_IsCertificateNotFoundNamingTheCertificate()
    {
        string pfx = Path.Combine(_folder.Path, "app.pfx");
        using (RSA key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=Relay app", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pkcs12));
        }
        Assert.Empty(_shell.Invoke("$global:app = New-RelayOAuthAccount Microsoft365 -TenantId t -ClientId c -CertificatePath $pfx -Mailbox m@contoso.test", ("pfx", pfx)).Errors);
        File.Delete(pfx);

        PipelineResult result = _shell.Invoke("Invoke-RelayForward -SpoolPath $spool -To 127.0.0.1:25 -OAuthAccount $global:app", ("spool", _spool));

        Assert.Equal(new[] { "CertificateNotFound," + ForwardCommand }, result.ErrorIds);
        Assert.Equal(pfx, result.Errors[0].TargetObject);
    }

    [Fact]
    public void OAuthAccountPath_NotAnAccountFile_IsOAuthAccountInvalid()
    {
        string notAccount = _folder.Write("client.auth", "client plain alice secret\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(notAccount, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        PipelineResult result = _shell.Invoke("Invoke-RelayForward -SpoolPath $spool -To 127.0.0.1:25 -OAuthAccountPath $account", ("spool", _spool), ("account", notAccount));

        Assert.Equal(new[] { "OAuthAccountInvalid," + ForwardCommand }, result.ErrorIds);
        Assert.Equal(ErrorCategory.InvalidData, result.Errors[0].CategoryInfo.Category);
    }

    [Theory]
    [InlineData("@{ printer = 42 }")]
    [InlineData("@{ '' = $account }")]
    public void OAuthAccountBySelector_WrongEntry_IsInvalidForwardingParameters(string table)
    {
        string account = SaveStaticAccount("relay.json", "relay@contoso.test", "token");

        PipelineResult result = _shell.Invoke("Invoke-RelayForward -SpoolPath $spool -To 127.0.0.1:25 -OAuthAccountBySelector " + table, ("spool", _spool), ("account", account));

        Assert.Equal(new[] { "InvalidForwardingParameters," + ForwardCommand }, result.ErrorIds);
        Assert.Equal("OAuthAccountBySelector", result.Errors[0].TargetObject);
    }

    [Fact]
    public void StartRelayServer_OAuthAccountPathWithoutForwardTo_IsInvalidForwardingParameters()
    {
        string account = SaveStaticAccount("relay.json", "relay@contoso.test", "token");

        PipelineResult result = _shell.Invoke("Start-RelayServer -Name oauth-no-hop -SpoolPath $spool -Port 0 -OAuthAccountPath $account", ("spool", _spool), ("account", account));

        Assert.Equal(new[] { "InvalidForwardingParameters,RelayCmdlets.StartRelayServerCommand" }, result.ErrorIds);
        Assert.Equal("OAuthAccountPath", result.Errors[0].TargetObject);
    }

    private async Task<AuthNextHop> StartHopAsync(params string[] arguments)
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return null;
        }
        return await AuthNextHop.StartAsync(_folder.Path, ["--mechanisms", "XOAUTH2", .. arguments]);
    }

    private string SaveStaticAccount(string name, string user, string token)
    {
        string path = Path.Combine(_folder.Path, name);
        PipelineResult result = _shell.Invoke(
            "$null = New-RelayOAuthAccount Static -Credential $credential -Path $path",
            ("credential", new PSCredential(user, Secure(token))),
            ("path", path));
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors));
        return path;
    }

    private object StaticAccountObject(string user, string token) =>
        Assert.Single(_shell.Invoke("New-RelayOAuthAccount Static -Credential $credential", ("credential", new PSCredential(user, Secure(token)))).Output);

    /// <summary>Spools a message; with a selector, as a device that logged in to Relay with a selector account would have it.</summary>
    private void Submit(string selector, string to)
    {
        PipelineResult result = _shell.Invoke(
            "(Submit-RelayMessage -SpoolPath $spool -From device@contoso.test -To $to -Subject scan -Body scanned).EnvelopePath",
            ("spool", _spool),
            ("to", to));
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors));
        if (selector != null)
        {
            string envelope = Assert.Single(result.OutputOf<string>());
            File.WriteAllText(envelope, File.ReadAllText(envelope).Replace("X-MailRelay-ClientAccountSelector: \r\n", "X-MailRelay-ClientAccountSelector: " + selector + "\r\n", StringComparison.Ordinal));
        }
    }

    private static SecureString Secure(string text) => new NetworkCredential(string.Empty, text).SecurePassword;
}
