// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Linq;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Tasks;
using RelayCore.Hosting;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Smtp;

public class SmtpTlsTests
{
    internal static Task<TestServer> StartWithCertificateAsync(bool usePfx = false, Action<RelayServerOptions> configure = null, string serverSecrets = null)
    {
        string directory = TestServer.NewDirectory();
        TestCertificate files = TestCertificate.Create(directory);
        return TestServer.StartAsync(o =>
        {
            if (serverSecrets != null)
            {
                o.ServerSecretsPath = System.IO.Path.Combine(directory, "server.auth");
                System.IO.File.WriteAllText(o.ServerSecretsPath, serverSecrets);
            }
            if (usePfx)
            {
                o.CertificatePath = files.PfxPath;
                var password = new SecureString();
                foreach (char c in TestCertificate.PfxPassword)
                {
                    password.AppendChar(c);
                }
                o.CertificatePassword = password;
            }
            else
            {
                o.CertificatePath = files.CombinedPemPath;
            }
            configure?.Invoke(o);
        }, directory);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StartTls_PemOrPfxCertificate_SecuresSessionAndReceivedSaysEsmtps(bool usePfx)
    {
        await using TestServer server = await StartWithCertificateAsync(usePfx);
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();
        Assert.Contains("250-STARTTLS", await client.CommandAsync("EHLO client.example"));
        Assert.Equal("220 2.0.0 Ready to start TLS", await client.CommandAsync("STARTTLS"));

        await client.StartTlsAsync();

        string ehlo = await client.CommandAsync("EHLO client.example");
        Assert.DoesNotContain("STARTTLS", ehlo);
        await client.OpenTransactionAsync();
        string reply = await client.DataAsync("secure");
        Assert.Contains(" with ESMTPS ; ", server.ReadContent(TestServer.IdOf(reply)));
    }

    [Fact]
    public async Task StartTls_CommandsPipelinedBeforeHandshake_AreDiscarded()
    {
        await using TestServer server = await StartWithCertificateAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync();

        // The injected MAIL sits in the server's buffer before TLS starts; it must never run.
        Assert.StartsWith("220", await client.CommandAsync("STARTTLS\r\nMAIL FROM:<injected@evil>"));
        await client.StartTlsAsync();

        Assert.StartsWith("503 5.5.1", await client.CommandAsync("RCPT TO:<c@d>"));
    }

    [Fact]
    public async Task StartTls_AfterHandshake_MailNeedsNewEhlo()
    {
        await using TestServer server = await StartWithCertificateAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync();
        await client.CommandAsync("STARTTLS");
        await client.StartTlsAsync();

        Assert.StartsWith("503 5.5.1", await client.CommandAsync("MAIL FROM:<a@b>"));
    }

    [Fact]
    public async Task StartTls_WithoutCertificate_IsNotAvailable()
    {
        await using TestServer server = await TestServer.StartAsync();
        using SmtpTestClient client = await server.ConnectGreetedAsync("EHLO x");

        Assert.StartsWith("502 5.5.1", await client.CommandAsync("STARTTLS"));
    }

    [Fact]
    public async Task RequireTls_MailBeforeTls_Gets530AndAuthIsHidden()
    {
        await using TestServer server = await StartWithCertificateAsync(configure: o => o.RequireTls = true, serverSecrets: "server plain alice s3cret\n");
        using SmtpTestClient client = await server.ConnectAsync();
        await client.ReadReplyAsync();
        string before = await client.CommandAsync("EHLO x");

        Assert.DoesNotContain("AUTH", before);
        Assert.StartsWith("530 5.7.0", await client.CommandAsync("MAIL FROM:<a@b>"));
        Assert.StartsWith("530 5.7.0", await client.CommandAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("\0alice\0s3cret"))));
        await client.CommandAsync("STARTTLS");
        await client.StartTlsAsync();
        Assert.Contains("250-AUTH PLAIN LOGIN CRAM-MD5", await client.CommandAsync("EHLO x"));
        Assert.StartsWith("250 2.1.0", await client.CommandAsync("MAIL FROM:<a@b>"));
    }

    [Fact]
    public async Task ImplicitTls_Listener_GreetsInsideTls()
    {
        await using TestServer server = await StartWithCertificateAsync(configure: o => o.ImplicitTlsPorts.Add(0));
        using SmtpTestClient client = await server.ConnectAsync(server.Server.ImplicitTlsEndpoints.Single());

        await client.StartTlsAsync();

        Assert.StartsWith("220 relay.test", await client.ReadReplyAsync());
        string ehlo = await client.CommandAsync("EHLO client.example");
        Assert.DoesNotContain("STARTTLS", ehlo);
        await client.OpenTransactionAsync();
        string reply = await client.DataAsync("implicit");
        Assert.Contains(" with ESMTPS ; ", server.ReadContent(TestServer.IdOf(reply)));
    }

    [Fact]
    public async Task IdleClient_InsideTls_Gets421ThroughTls()
    {
        await using TestServer server = await StartWithCertificateAsync(configure: o => o.IdleTimeout = TimeSpan.FromMilliseconds(500));
        using SmtpTestClient client = await server.ConnectGreetedAsync();
        await client.CommandAsync("STARTTLS");
        await client.StartTlsAsync();
        await client.CommandAsync("EHLO client.example");

        string reply = await client.ReadReplyAsync();

        Assert.StartsWith("421 4.4.2", reply);
        Assert.True(await client.WaitForCloseAsync());
    }

    [Fact]
    public async Task ImplicitTls_PemWithIntermediate_SendsTheChainSoClientsCanVerify()
    {
        string directory = TestServer.NewDirectory();
        using X509Certificate2 root = TestCertificate.CreateChainPem(directory, out string pemPath);
        await using TestServer server = await TestServer.StartAsync(o =>
        {
            o.CertificatePath = pemPath;
            o.ImplicitTlsPorts.Add(0);
        }, directory);
        using SmtpTestClient client = await server.ConnectAsync(server.Server.ImplicitTlsEndpoints.Single());
        bool verified = false;

        await client.StartTlsAsync((sender, certificate, chain, errors) =>
        {
            // Trust only the test root, and only what the server sent besides: the intermediate must come from the server.
            using var check = new X509Chain();
            check.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            check.ChainPolicy.CustomTrustStore.Add(root);
            check.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
            check.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            verified = check.Build(new X509Certificate2(certificate));
            return true;
        });

        Assert.StartsWith("220 relay.test", await client.ReadReplyAsync());
        Assert.True(verified);
    }
}
