// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Management.Automation;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;
using RelayCore.Tests.Forwarding.Peers;
using RelayCmdlets.Tests.Host;
using RelayCore.Tests.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Forwarding;

/// <summary>Test-RelayConnection in a real runspace against real next hops (Python's aiosmtpd), plain and with STARTTLS and AUTH.</summary>
public sealed class TestRelayConnectionTests : IClassFixture<ModuleRunspace>
{
    // One line per probe: whether it succeeded, where it failed, TLS, the login, and every step.
    private const string Summary =
        " | ForEach-Object { '{0}|{1}|{2}|{3}|{4}|{5}' -f $_.Succeeded, $_.FailedStep, $_.IsSecure, $_.AuthMechanism, $_.AuthenticatedAs, (($_.Steps | ForEach-Object { '' + $_.Step + ' ' + $_.Outcome }) -join ',') }";

    private readonly ModuleRunspace _shell;
    private readonly ITestOutputHelper _output;

    public TestRelayConnectionTests(ModuleRunspace shell, ITestOutputHelper output)
    {
        _shell = shell;
        _output = output;
    }

    [Fact]
    public async Task PlainHop_NoTlsNoAuth_SucceedsThroughGreetingAndEhlo()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }

        PipelineResult result = _shell.Invoke("Test-RelayConnection -To $hop" + Summary, ("hop", "127.0.0.1:" + hop.Port));

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { "True||False|||Pop Skipped,Connect Succeeded,Greeting Succeeded,Ehlo Succeeded,Tls Skipped,Auth Skipped" }, result.OutputOf<string>());
    }

    [Fact]
    public async Task StartTlsAuthHop_WithCaAndCredential_ReportsTlsAndTheLogin()
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var folder = new TempFolder();
        using X509Certificate2 root = TestCertificate.CreateChainPem(folder.Path, out string chainPem);
        string caPath = folder.Write("ca.pem", root.ExportCertificatePem() + "\n");
        await using AuthNextHop hop = await AuthNextHop.StartAsync(folder.Path, "--starttls", chainPem, chainPem, "--account", "alice:s3cret");

        PipelineResult result = _shell.Invoke(
            "Test-RelayConnection -To $hop -ClientTls StartTls -CertificateAuthorityPath $ca -TlsServerName relay.test -Credential $account" + Summary,
            ("hop", "127.0.0.1:" + hop.Port),
            ("ca", caPath),
            ("account", Credential("alice", "s3cret")));

        Assert.Empty(result.Errors);
        Assert.Equal(
            new[] { "True||True|CRAM-MD5|alice|Pop Skipped,Connect Succeeded,Greeting Succeeded,Ehlo Succeeded,Tls Succeeded,Ehlo Succeeded,Auth Succeeded" },
            result.OutputOf<string>());
    }

    [Fact]
    public async Task StartTlsAuthHop_WrongPassword_ReportsTheAuthFailureWithoutAnError()
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var folder = new TempFolder();
        using X509Certificate2 root = TestCertificate.CreateChainPem(folder.Path, out string chainPem);
        await using AuthNextHop hop = await AuthNextHop.StartAsync(folder.Path, "--starttls", chainPem, chainPem, "--account", "alice:s3cret");

        PipelineResult result = _shell.Invoke(
            "Test-RelayConnection -To $hop -SkipCertificateCheck -Credential $account" + Summary,
            ("hop", "127.0.0.1:" + hop.Port),
            ("account", Credential("alice", "wrong")));

        Assert.Empty(result.Errors);
        string probe = Assert.Single(result.OutputOf<string>());
        Assert.StartsWith("False|Auth|", probe);
        Assert.EndsWith("Tls Succeeded,Ehlo Succeeded,Auth Failed", probe);
    }

    [Fact]
    public async Task AccountSelector_SecretsFileWithTwoClientLines_LogsInWithTheSelectedOne()
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var folder = new TempFolder();
        string secrets = folder.Write("client.auth", "client plain alice s3cret\nclient plain bob b0bpass isp2\n");
        await using AuthNextHop hop = await AuthNextHop.StartAsync(folder.Path, "--account", "alice:s3cret", "--account", "bob:b0bpass", "--mechanisms", "CRAM-MD5");

        PipelineResult result = _shell.Invoke(
            "Test-RelayConnection -To $hop -ClientTls None -SecretsPath $secrets -AccountSelector isp2" + Summary,
            ("hop", "127.0.0.1:" + hop.Port),
            ("secrets", secrets));

        Assert.Empty(result.Errors);
        Assert.StartsWith("True||False|CRAM-MD5|bob|", Assert.Single(result.OutputOf<string>()));
    }

    [Fact]
    public void NothingListening_ReportsTheConnectFailureWithoutAnError()
    {
        PipelineResult result = _shell.Invoke("Test-RelayConnection -To $hop -ConnectTimeout 00:00:05" + Summary, ("hop", "127.0.0.1:" + ClosedPort.Find()));

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { "False|Connect|False|||Pop Skipped,Connect Failed" }, result.OutputOf<string>());
    }

    [Fact]
    public async Task Quiet_ReachableAndUnreachableHops_WritesTrueThenFalse()
    {
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }

        PipelineResult result = _shell.Invoke("$hops | Test-RelayConnection -Quiet", ("hops", new[] { "127.0.0.1:" + hop.Port, "127.0.0.1:" + ClosedPort.Find() }));

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { true, false }, result.OutputOf<bool>());
    }

    [Fact]
    public void To_NotANextHop_IsAParameterBindingError()
    {
        PipelineResult result = _shell.Invoke("Test-RelayConnection -To 'mail.example.com'");

        Assert.Equal(new[] { "CannotConvertArgumentNoMessage,RelayCmdlets.TestRelayConnectionCommand" }, result.ErrorIds);
    }

    [Fact]
    public async Task OAuthToken_ExchangeJwtWithSendAsApp_ReportsTheTokenStepWithoutTheToken()
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        // A JWT as Entra ID issues for Exchange Online: the probe reads its claims, the next hop checks the whole token.
        string payload = "{\"aud\":\"https://outlook.office365.com\",\"roles\":[\"SMTP.SendAsApp\"],\"exp\":" + System.DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds() + "}";
        string token = "eyJhbGciOiJSUzI1NiJ9." + System.Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(payload)).TrimEnd('=').Replace('+', '-').Replace('/', '_') + ".c2lnbmF0dXJl";
        using var folder = new TempFolder();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(folder.Path, "--mechanisms", "XOAUTH2", "--oauth", "printer@contoso.test:" + token);

        PipelineResult result = _shell.Invoke(
            "Test-RelayConnection -To $hop -ClientTls None -Credential $account -OAuthToken $token | ForEach-Object { " +
            "'{0}|{1}|{2}|{3}|{4}|{5}' -f $_.Succeeded, $_.OAuth.UserName, ($_.OAuth.Roles -join ' '), $_.OAuth.HasSendAsApp, $_.OAuth.AuthReplyCode, (($_.Steps | ForEach-Object { '' + $_.Step + ' ' + $_.Outcome }) -join ','); " +
            "'' + $_.OAuth; $_.Steps | ForEach-Object { '' + $_ }; $_.Transcript }",
            ("hop", "127.0.0.1:" + hop.Port),
            ("account", Credential("printer@contoso.test", string.Empty)),
            ("token", new NetworkCredential(string.Empty, token).SecurePassword));

        Assert.Empty(result.Errors);
        System.Collections.Generic.IReadOnlyList<string> lines = result.OutputOf<string>();
        Assert.Equal("True|printer@contoso.test|SMTP.SendAsApp|True|235|Pop Skipped,Connect Succeeded,Greeting Succeeded,Ehlo Succeeded,Token Succeeded,Auth Succeeded,Tls Skipped", lines[0]);
        Assert.Contains("(SMTP.SendAsApp present); XOAUTH2 235", lines[1]);
        Assert.Contains("C: AUTH XOAUTH2 ********", lines);
        Assert.DoesNotContain(lines, line => line.Contains(token.Split('.')[1], System.StringComparison.Ordinal));
    }

    private static PSCredential Credential(string user, string password) => new PSCredential(user, new NetworkCredential(user, password).SecurePassword);

}
