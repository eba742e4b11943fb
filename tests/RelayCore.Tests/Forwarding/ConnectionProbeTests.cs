// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Tests.Forwarding.Peers;
using RelayCore.Tests.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

/// <summary>The connection probe (Test-RelayConnection) against real peers: what it reports when all works and where it stops when not, without throwing.</summary>
public sealed class ConnectionProbeTests
{
    private readonly ITestOutputHelper _output;

    public ConnectionProbeTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Probe_StartTlsAndAuthHop_ReportsEveryStepAndWhatWasOffered()
    {
        await WithTlsHopAsync(async (context, hop) =>
        {
            context.Options.Credential = new NetworkCredential("alice", "s3cret");

            ConnectionProbeResult result = await ConnectionProbe.RunAsync(context.Options, null, context.Token);
            foreach (var s in result.Steps) { _output.WriteLine(s.ToString()); } foreach (var l in result.Transcript) { _output.WriteLine(l); }

            Assert.True(result.Succeeded, result.Error);
            Assert.Equal(
                new[] { "Pop Skipped", "Connect Succeeded", "Greeting Succeeded", "Ehlo Succeeded", "Tls Succeeded", "Ehlo Succeeded", "Auth Succeeded" },
                result.Steps.Select(s => s.Step + " " + s.Outcome));
            Assert.Contains("next-hop.test", result.Banner);
            Assert.Contains("STARTTLS", result.Steps[3].Detail);
            Assert.Equal(33554432, result.MaxSize);
            Assert.Contains("CRAM-MD5", result.AuthMechanisms);
            Assert.True(result.IsSecure);
            Assert.StartsWith("Tls", result.TlsProtocol);
            Assert.Equal("CN=relay.test", result.Certificate.Subject);
            Assert.Equal("CN=Relay Test Intermediate", result.Certificate.Issuer);
            Assert.True(result.Certificate.IsTrusted);
            Assert.Equal(("alice", "CRAM-MD5"), (result.AuthenticatedAs, result.AuthMechanism));
            Assert.Equal(235, result.Steps[6].ReplyCode);
            Assert.Equal("C: QUIT", result.Transcript.Last(l => l.StartsWith("C: ", System.StringComparison.Ordinal)));
        });
    }

    [Fact]
    public async Task Probe_WrongServerName_RecordsTheTlsFailureAndTheCertificate()
    {
        await WithTlsHopAsync(async (context, hop) =>
        {
            context.Options.TlsServerName = "other.test";

            ConnectionProbeResult result = await ConnectionProbe.RunAsync(context.Options, null, context.Token);

            Assert.False(result.Succeeded);
            Assert.Equal(ConnectionStep.Tls, result.FailedStep);
            Assert.False(result.IsTransient);
            Assert.Equal(ConnectionProbeOutcome.Failed, result.Steps.Last().Outcome);
            Assert.Equal(ConnectionStep.Tls, result.Steps.Last().Step);
            Assert.False(result.Certificate.IsTrusted);
            Assert.Contains("names do not include", result.Certificate.ValidationErrors);
            Assert.Contains("DNS:relay.test", result.Certificate.SubjectAlternativeNames);
        });
    }

    [Fact]
    public async Task Probe_WrongPassword_FailsAtAuthWithTheReply()
    {
        await WithTlsHopAsync(async (context, hop) =>
        {
            context.Options.Credential = new NetworkCredential("alice", "wrong");

            ConnectionProbeResult result = await ConnectionProbe.RunAsync(context.Options, null, context.Token);

            Assert.Equal(ConnectionStep.Auth, result.FailedStep);
            ConnectionProbeStep auth = result.Steps.Last();
            Assert.Equal((ConnectionStep.Auth, ConnectionProbeOutcome.Failed, (int?)535), (auth.Step, auth.Outcome, auth.ReplyCode));
            Assert.DoesNotContain(result.Transcript, l => l.Contains("wrong"));
        });
    }

    [Fact]
    public async Task Probe_NothingListening_RecordsConnectFailureWithoutThrowing()
    {
        using var context = new ForwardingTestContext();
        context.Options.NextHop = NextHopAddress.Parse("127.0.0.1:" + LoopbackPort.Next());

        ConnectionProbeResult result = await ConnectionProbe.RunAsync(context.Options, null, context.Token);

        Assert.Equal(ConnectionStep.Connect, result.FailedStep);
        Assert.True(result.IsTransient);
        Assert.Equal(new[] { "Pop Skipped", "Connect Failed" }, result.Steps.Select(s => s.Step + " " + s.Outcome));
    }

    [Fact]
    public async Task Probe_WithPopBeforeSmtp_ReportsThePopStep()
    {
        if (!DovecotPop3.IsAvailable(_output) || !AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using DovecotPop3 dovecot = await DovecotPop3.StartAsync(context.Directory, new[] { "alice:s3cret" });
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        context.Options.NextHop = hop.Address;
        context.Options.Tls = ClientTlsMode.None;
        context.Options.PopBeforeSmtp = new PopBeforeSmtpOptions
        {
            Server = NextHopAddress.Parse("127.0.0.1:" + dovecot.Port),
            Credential = new NetworkCredential("alice", "s3cret"),
            Delay = System.TimeSpan.FromMilliseconds(200),
        };

        ConnectionProbeResult result = await ConnectionProbe.RunAsync(context.Options, null, context.Token);

        Assert.True(result.Succeeded, result.Error);
        ConnectionProbeStep pop = result.Steps[0];
        Assert.Equal((ConnectionStep.Pop, ConnectionProbeOutcome.Succeeded), (pop.Step, pop.Outcome));
        Assert.Contains("logged in as alice with USER/PASS, STAT 0 message(s), QUIT", pop.Detail);
        Assert.True(pop.Elapsed >= System.TimeSpan.FromMilliseconds(200));
        Assert.Contains("POP C: STAT", result.Transcript);
        Assert.Contains(result.Steps, s => s.Step == ConnectionStep.Tls && s.Outcome == ConnectionProbeOutcome.Skipped);
    }

    [Fact]
    public async Task Probe_PopLoginRefused_StopsAtPopWithoutConnectingToSmtp()
    {
        if (!DovecotPop3.IsAvailable(_output) || !AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using DovecotPop3 dovecot = await DovecotPop3.StartAsync(context.Directory, new[] { "alice:s3cret" });
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        context.Options.NextHop = hop.Address;
        context.Options.PopBeforeSmtp = new PopBeforeSmtpOptions
        {
            Server = NextHopAddress.Parse("127.0.0.1:" + dovecot.Port),
            Credential = new NetworkCredential("alice", "wrong"),
        };

        ConnectionProbeResult result = await ConnectionProbe.RunAsync(context.Options, null, context.Token);

        Assert.Equal(ConnectionStep.Pop, result.FailedStep);
        Assert.Equal(new[] { "Pop Failed" }, result.Steps.Select(s => s.Step + " " + s.Outcome));
        Assert.Contains("POP C: PASS ********", result.Transcript);
        Assert.Empty(hop.Events("connect"));
    }

    private async Task WithTlsHopAsync(System.Func<ForwardingTestContext, AuthNextHop, Task> test)
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        using X509Certificate2 root = TestCertificate.CreateChainPem(context.Directory, out string chainPem);
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory, "--starttls", chainPem, chainPem, "--account", "alice:s3cret");
        context.Options.NextHop = hop.Address;
        context.Options.Tls = ClientTlsMode.StartTls;
        context.Options.CaFilePath = context.WriteFile("ca.pem", root.ExportCertificatePem() + "\n");
        context.Options.TlsServerName = "relay.test";
        await test(context, hop);
    }
}
