// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Tests.Forwarding.Peers;
using RelayCore.Tests.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

/// <summary>
/// TLS towards a real aiosmtpd next hop whose certificate chains to a CA made at test time
/// (leaf for relay.test, intermediate, root), so verification is exercised, not skipped.
/// </summary>
public sealed class ClientTlsTests
{
    private readonly ITestOutputHelper _output;

    public ClientTlsTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Connect_StartTlsWithCaFileAndServerName_VerifiesAndEncrypts()
    {
        await WithTlsHopAsync("--starttls", async (context, hop) =>
        {
            context.Options.Tls = ClientTlsMode.StartTls;

            using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

            Assert.True(client.IsSecure);
            Assert.True(client.ServerCertificate.IsTrusted, client.ServerCertificate.ValidationErrors);
            Assert.Equal("CN=relay.test", client.ServerCertificate.Subject);
            Assert.Contains("DNS:relay.test", client.ServerCertificate.SubjectAlternativeNames);
        });
    }

    [Fact]
    public async Task Connect_StartTlsWhenOfferedAndOffered_UsesTls()
    {
        await WithTlsHopAsync("--starttls", async (context, hop) =>
        {
            context.Options.Tls = ClientTlsMode.StartTlsWhenOffered;
            context.Options.Credential = new NetworkCredential("alice", "s3cret");
            context.Options.AuthMechanisms.Add("PLAIN");

            using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

            Assert.True(client.IsSecure);
            JsonElement auth = Assert.Single(hop.Events("auth"));
            Assert.True(auth.GetProperty("tls").GetBoolean());
        });
    }

    [Fact]
    public async Task Connect_WithoutCaFile_FailsAtTlsNamingTheUntrustedIssuer()
    {
        await WithTlsHopAsync("--starttls", async (context, hop) =>
        {
            context.Options.Tls = ClientTlsMode.StartTls;
            context.Options.CaFilePath = null;

            var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token));

            Assert.Equal(ConnectionStep.Tls, error.Step);
            Assert.False(error.IsTransient);
            Assert.Contains("Relay Test Intermediate", error.Message);
            Assert.Contains("trusted CA", error.Message);
        });
    }

    [Fact]
    public async Task Connect_WrongServerName_FailsAtTls()
    {
        await WithTlsHopAsync("--starttls", async (context, hop) =>
        {
            context.Options.Tls = ClientTlsMode.StartTls;
            context.Options.TlsServerName = "other.test";

            var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token));

            Assert.Equal(ConnectionStep.Tls, error.Step);
            Assert.Contains("names do not include 'other.test'", error.Message);
        });
    }

    [Fact]
    public async Task Connect_SkipValidationWithoutCaFile_ConnectsAndWarns()
    {
        await WithTlsHopAsync("--starttls", async (context, hop) =>
        {
            context.Options.Tls = ClientTlsMode.StartTls;
            context.Options.CaFilePath = null;
            context.Options.TlsServerName = "other.test";
            context.Options.SkipCertificateValidation = true;

            using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

            Assert.True(client.IsSecure);
            Assert.False(client.ServerCertificate.IsTrusted);
            Assert.Contains(context.LogLines, line => line.Contains("Warning") && line.Contains("SkipCertificateValidation"));
        });
    }

    [Fact]
    public async Task Connect_StartTlsRequiredButNotOffered_FailsAtTlsNotTransient()
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        context.Options.Tls = ClientTlsMode.StartTls;

        var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token));

        Assert.Equal(ConnectionStep.Tls, error.Step);
        Assert.False(error.IsTransient);
        Assert.Contains("does not offer STARTTLS", error.Message);
    }

    [Fact]
    public async Task Connect_ImplicitTls_EncryptedFromTheFirstByte()
    {
        await WithTlsHopAsync("--implicit-tls", async (context, hop) =>
        {
            context.Options.Tls = ClientTlsMode.Implicit;
            context.Options.Credential = new NetworkCredential("alice", "s3cret");
            context.Options.AuthMechanisms.Add("PLAIN");

            using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

            Assert.True(client.IsSecure);
            Assert.DoesNotContain(client.Transcript.Lines, line => line.Text.StartsWith("STARTTLS", System.StringComparison.Ordinal));
            Assert.True(Assert.Single(hop.Events("auth")).GetProperty("tls").GetBoolean());
        });
    }

    [Fact]
    public async Task Connect_ImplicitTlsToAPlaintextHop_FailsAtTlsNotTransient()
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        context.Options.Tls = ClientTlsMode.Implicit;

        var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token));

        Assert.Equal((ConnectionStep.Tls, false), (error.Step, error.IsTransient));
        Assert.Contains("TLS handshake", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Connect_ClientCertificate_PresentedToTheHop(bool pfx)
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        string clientDirectory = Directory.CreateDirectory(Path.Combine(context.Directory, "client")).FullName;
        TestCertificate clientCertificate = TestCertificate.Create(clientDirectory);
        string serverPem = WriteServerChain(context);
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory,
            "--starttls", serverPem, serverPem, "--client-ca", clientCertificate.CertificatePemPath, "--account", "alice:s3cret", "--mechanisms", "PLAIN");
        context.Options.Tls = ClientTlsMode.StartTls;
        if (pfx)
        {
            context.Options.ClientCertificatePath = clientCertificate.PfxPath;
            context.Options.ClientCertificatePassword = new NetworkCredential(string.Empty, TestCertificate.PfxPassword).SecurePassword;
        }
        else
        {
            context.Options.ClientCertificatePath = clientCertificate.CertificatePemPath;
            context.Options.ClientCertificateKeyPath = clientCertificate.KeyPemPath;
        }
        context.Options.Credential = new NetworkCredential("alice", "s3cret");

        using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

        Assert.Equal("commonName=relay.test", Assert.Single(hop.Events("auth")).GetProperty("client_cert").GetString());
    }

    /// <summary>Writes the CA made at test time: chain.pem (leaf relay.test + intermediate + key) for the hop, ca.pem (the root) for the client.</summary>
    private static string WriteServerChain(ForwardingTestContext context)
    {
        using X509Certificate2 root = TestCertificate.CreateChainPem(context.Directory, out string chainPem);
        context.Options.CaFilePath = context.WriteFile("ca.pem", root.ExportCertificatePem() + "\n");
        context.Options.TlsServerName = "relay.test";
        return chainPem;
    }

    [Theory]
    [InlineData("--starttls", ClientTlsMode.StartTls)]
    [InlineData("--implicit-tls", ClientTlsMode.Implicit)]
    public async Task Forward_TlsHopOfferingPipelining_WholeGroupSentOverTls(string tlsOption, ClientTlsMode mode)
    {
        await WithTlsHopAsync(tlsOption, async (context, hop) =>
        {
            context.Options.Tls = mode;
            context.Options.NextHop = hop.Address;
            using var spool = new ForwardingSpool();
            await spool.AddAsync(ForwardingSpool.SimpleContent("over tls"), new[] { "bob@example.net", "carol@example.net" });
            await using var agent = new ForwardingAgent(context.Options);

            ForwardingSummary summary = await agent.ForwardAsync(spool.Spool, null, null, context.Token);

            Assert.Equal(1, summary.Sent);
            JsonElement message = Assert.Single(hop.Events("message"));
            Assert.True(message.GetProperty("tls").GetBoolean());
            Assert.True(message.GetProperty("data_in_group").GetBoolean());
        }, "--pipelining");
    }

    private async Task WithTlsHopAsync(string tlsOption, System.Func<ForwardingTestContext, AuthNextHop, Task> test, params string[] extra)
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        string chainPem = WriteServerChain(context);
        string[] arguments = new[] { tlsOption, chainPem, chainPem, "--account", "alice:s3cret" }.Concat(extra).ToArray();
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory, arguments);
        await test(context, hop);
    }
}
