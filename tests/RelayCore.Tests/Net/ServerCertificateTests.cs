// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Net;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using RelayCore.Net;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Net;

public sealed class ServerCertificateTests : System.IDisposable
{
    private readonly string _directory = TestServer.NewDirectory();

    [Fact]
    public void Load_CombinedPem_HasPrivateKey()
    {
        TestCertificate files = TestCertificate.Create(_directory);

        using X509Certificate2 certificate = ServerCertificate.Load(files.CombinedPemPath, null, null);

        Assert.True(certificate.HasPrivateKey);
        Assert.Equal("CN=relay.test", certificate.Subject);
    }

    [Fact]
    public void Load_PemWithSeparateKey_HasPrivateKey()
    {
        TestCertificate files = TestCertificate.Create(_directory);

        using X509Certificate2 certificate = ServerCertificate.Load(files.CertificatePemPath, files.KeyPemPath, null);

        Assert.True(certificate.HasPrivateKey);
    }

    [Fact]
    public void Load_EncryptedPemKeyWithPassword_HasPrivateKey()
    {
        TestCertificate files = TestCertificate.Create(_directory);
        string encryptedKey = Path.Combine(_directory, "encrypted-key.pem");
        using (var key = System.Security.Cryptography.RSA.Create())
        {
            key.ImportFromPem(File.ReadAllText(files.KeyPemPath));
            var pbe = new System.Security.Cryptography.PbeParameters(System.Security.Cryptography.PbeEncryptionAlgorithm.Aes256Cbc, System.Security.Cryptography.HashAlgorithmName.SHA256, 1000);
            File.WriteAllText(encryptedKey, key.ExportEncryptedPkcs8PrivateKeyPem("key-pass", pbe));
        }

        using X509Certificate2 certificate = ServerCertificate.Load(files.CertificatePemPath, encryptedKey, Secure("key-pass"));

        Assert.True(certificate.HasPrivateKey);
    }

    [Fact]
    public void Load_PfxWithPassword_HasPrivateKey()
    {
        TestCertificate files = TestCertificate.Create(_directory);

        using X509Certificate2 certificate = ServerCertificate.Load(files.PfxPath, null, Secure(TestCertificate.PfxPassword));

        Assert.True(certificate.HasPrivateKey);
    }

    [Fact]
    public void Load_PfxWrongPassword_ThrowsInvalidData()
    {
        TestCertificate files = TestCertificate.Create(_directory);

        Assert.Throws<InvalidDataException>(() => ServerCertificate.Load(files.PfxPath, null, Secure("wrong")));
    }

    [Fact]
    public void Load_PemWithoutKey_ThrowsInvalidData()
    {
        TestCertificate files = TestCertificate.Create(_directory);

        var error = Assert.Throws<InvalidDataException>(() => ServerCertificate.Load(files.CertificatePemPath, null, null));

        Assert.Contains("private key", error.Message);
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.9.9.9", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("192.0.2.2", false)]
    [InlineData("fd00::2", false)]
    public void IsLocal_Address_IsLoopbackOnly(string address, bool expected)
    {
        Assert.Equal(expected, ClientAddressPolicy.IsLocal(IPAddress.Parse(address)));
    }

    [Fact]
    public void IsAllowed_RemoteAddressWhenAllowed_IsTrue()
    {
        Assert.True(ClientAddressPolicy.IsAllowed(IPAddress.Parse("192.0.2.2"), allowRemoteClients: true));
        Assert.False(ClientAddressPolicy.IsAllowed(IPAddress.Parse("192.0.2.2"), allowRemoteClients: false));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static SecureString Secure(string text)
    {
        var secure = new SecureString();
        foreach (char c in text)
        {
            secure.AppendChar(c);
        }
        return secure;
    }
}
