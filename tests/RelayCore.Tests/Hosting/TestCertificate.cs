// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RelayCore.Tests.Hosting;

/// <summary>A self-signed server certificate made at test time and written as PEM and PFX files.</summary>
internal sealed class TestCertificate
{
    internal const string PfxPassword = "pfx-pass";

    private TestCertificate(string directory)
    {
        CombinedPemPath = Path.Combine(directory, "combined.pem");
        CertificatePemPath = Path.Combine(directory, "cert.pem");
        KeyPemPath = Path.Combine(directory, "key.pem");
        PfxPath = Path.Combine(directory, "cert.pfx");
    }

    /// <summary>Certificate and key in one PEM file.</summary>
    internal string CombinedPemPath { get; }

    internal string CertificatePemPath { get; }

    internal string KeyPemPath { get; }

    internal string PfxPath { get; }

    internal static TestCertificate Create(string directory)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=relay.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("relay.test");
        names.AddDnsName("localhost");
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var files = new TestCertificate(directory);
        string certificatePem = certificate.ExportCertificatePem();
        string keyPem = key.ExportPkcs8PrivateKeyPem();
        File.WriteAllText(files.CertificatePemPath, certificatePem + "\n");
        File.WriteAllText(files.KeyPemPath, keyPem + "\n");
        File.WriteAllText(files.CombinedPemPath, certificatePem + "\n" + keyPem + "\n");
        File.WriteAllBytes(files.PfxPath, certificate.Export(X509ContentType.Pfx, PfxPassword));
        return files;
    }

    /// <summary>Writes <c>chain.pem</c>: a leaf for relay.test, its intermediate CA and the leaf's key; returns the root CA.</summary>
    internal static X509Certificate2 CreateChainPem(string directory, out string pemPath)
    {
        DateTimeOffset from = DateTimeOffset.UtcNow.AddMinutes(-5);
        DateTimeOffset to = DateTimeOffset.UtcNow.AddDays(1);
        using RSA rootKey = RSA.Create(2048);
        X509Certificate2 root = CaRequest("CN=Relay Test Root", rootKey).CreateSelfSigned(from, to);
        using RSA intermediateKey = RSA.Create(2048);
        using X509Certificate2 intermediate = CaRequest("CN=Relay Test Intermediate", intermediateKey).Create(root, from, to, new byte[] { 1, 2 });
        using X509Certificate2 signer = intermediate.CopyWithPrivateKey(intermediateKey);
        using RSA leafKey = RSA.Create(2048);
        var request = new CertificateRequest("CN=relay.test", leafKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("relay.test");
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 leaf = request.Create(signer, from, to, new byte[] { 3, 4 });
        pemPath = Path.Combine(directory, "chain.pem");
        File.WriteAllText(pemPath, leaf.ExportCertificatePem() + "\n" + intermediate.ExportCertificatePem() + "\n" + leafKey.ExportPkcs8PrivateKeyPem() + "\n");
        return root;
    }

    private static CertificateRequest CaRequest(string name, RSA key)
    {
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request;
    }
}
