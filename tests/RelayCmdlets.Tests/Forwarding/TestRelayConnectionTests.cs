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

    private static PSCredential Credential(string user, string password) => new PSCredential(user, new NetworkCredential(user, password).SecurePassword);

}
