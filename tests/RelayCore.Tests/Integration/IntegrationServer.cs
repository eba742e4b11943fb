// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RelayCore.Auth;
using RelayCore.Hosting;
using RelayCore.Spool;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Integration;

/// <summary>A server for real clients: a test certificate, a secrets file (plain alice, md5 carol), plain and SMTPS ports.</summary>
internal static class IntegrationServer
{
    internal const string User = "alice";
    internal const string Password = "s3cret";
    internal const string Md5User = "carol";
    internal const string Md5Password = "md5-pw";

    internal static async Task<(TestServer Server, TestCertificate Certificate)> StartAsync(Action<RelayServerOptions> configure = null)
    {
        string directory = TestServer.NewDirectory();
        TestCertificate certificate = TestCertificate.Create(directory);
        string secrets = Path.Combine(directory, "server.auth");
        File.WriteAllText(secrets, "server plain " + User + " " + Password + "\nserver md5 " + Md5User + " " + EmailRelayPasswd.Compute(Md5Password) + "\n");
        TestServer server = await TestServer.StartAsync(o =>
        {
            o.CertificatePath = certificate.CertificatePemPath;
            o.CertificateKeyPath = certificate.KeyPemPath;
            o.ServerSecretsPath = secrets;
            o.ImplicitTlsPorts.Add(0);
            configure?.Invoke(o);
        }, directory);
        return (server, certificate);
    }

    internal static int Port(TestServer server) => server.EndPoint.Port;

    internal static int TlsPort(TestServer server) => server.Server.ImplicitTlsEndpoints.First().Port;

    /// <summary>The one message the peer stored: its envelope and content.</summary>
    internal static (Envelope Envelope, string Content) SingleMessage(TestServer server)
    {
        string envelopePath = Assert.Single(server.Envelopes());
        string id = Path.GetFileName(envelopePath).Substring(0, Path.GetFileName(envelopePath).Length - SpoolDirectory.EnvelopeSuffix.Length);
        return (server.ReadEnvelope(id), server.ReadContent(id));
    }
}
