// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.OpenSsl;
using Org.BouncyCastle.Pkcs;
using Org.BouncyCastle.Security;
using BcCertificate = Org.BouncyCastle.X509.X509Certificate;
using PemPasswordException = Org.BouncyCastle.OpenSsl.PasswordException;

namespace RelayCore.Net;

/// <summary>Loads a server's TLS certificate with its private key from PEM or PFX files.</summary>
/// <remarks>
/// PEM is read with BouncyCastle (a MimeKit dependency) on every target, because netstandard2.0
/// has no PEM API; the result is passed through an in-memory PKCS#12 so that the key is usable by
/// SslStream on Windows as well as Linux.
/// </remarks>
public static class ServerCertificate
{
    /// <summary>Loads a certificate and its key.</summary>
    /// <param name="certificatePath">A PEM file (certificate, optionally chain and key) or a PFX/PKCS#12 file.</param>
    /// <param name="keyPath">A PEM private key file when the key is not in <paramref name="certificatePath"/>; null otherwise.</param>
    /// <param name="password">The PFX password or the encrypted PEM key's password; null for none.</param>
    /// <returns>The certificate, with its private key.</returns>
    /// <exception cref="FileNotFoundException">A file does not exist.</exception>
    /// <exception cref="InvalidDataException">The files hold no certificate, no private key, or cannot be decrypted.</exception>
    public static X509Certificate2 Load(string certificatePath, string keyPath, SecureString password) =>
        Load(certificatePath, keyPath, password, null);

    /// <summary>Loads a certificate and its key, and adds the other certificates the file holds (the chain) to <paramref name="chain"/>.</summary>
    /// <remarks>A server must send its intermediates: clients verify the chain from what the handshake carries (RFC 8446 section 4.4.2).</remarks>
    internal static X509Certificate2 Load(string certificatePath, string keyPath, SecureString password, X509Certificate2Collection chain)
    {
        if (string.IsNullOrEmpty(certificatePath))
        {
            throw new ArgumentException("A certificate path is required.", nameof(certificatePath));
        }
        byte[] bytes = File.ReadAllBytes(certificatePath);
        string passwordText = ToPlainText(password);
        if (!LooksLikePem(bytes))
        {
            if (!string.IsNullOrEmpty(keyPath))
            {
                throw new InvalidDataException("'" + certificatePath + "' is not PEM, so a separate key file cannot go with it; a PFX file carries its own key.");
            }
            return LoadPfx(bytes, passwordText, certificatePath, chain);
        }
        var certificates = new List<BcCertificate>();
        AsymmetricKeyParameter key = null;
        ReadPem(Encoding.ASCII.GetString(bytes), passwordText, certificatePath, certificates, ref key);
        if (!string.IsNullOrEmpty(keyPath))
        {
            ReadPem(File.ReadAllText(keyPath, Encoding.ASCII), passwordText, keyPath, certificates, ref key);
        }
        if (certificates.Count == 0)
        {
            throw new InvalidDataException("'" + certificatePath + "' holds no PEM certificate.");
        }
        if (key == null)
        {
            throw new InvalidDataException("No private key was found in '" + (keyPath ?? certificatePath) + "'.");
        }
        for (int i = 1; i < certificates.Count && chain != null; i++)
        {
            chain.Add(new X509Certificate2(certificates[i].GetEncoded()));
        }
        return ToX509Certificate2(certificates, key);
    }

    private static bool LooksLikePem(byte[] bytes) =>
        Encoding.ASCII.GetString(bytes, 0, Math.Min(bytes.Length, 64 * 1024)).Contains("-----BEGIN ");

    private static X509Certificate2 LoadPfx(byte[] bytes, string password, string path, X509Certificate2Collection chain)
    {
        try
        {
            var certificate = new X509Certificate2(bytes, password, X509KeyStorageFlags.DefaultKeySet);
            if (!certificate.HasPrivateKey)
            {
                certificate.Dispose();
                throw new InvalidDataException("The PFX file '" + path + "' has no private key.");
            }
            if (chain != null)
            {
                var all = new X509Certificate2Collection();
                all.Import(bytes, password, X509KeyStorageFlags.DefaultKeySet);
                foreach (X509Certificate2 other in all)
                {
                    if (other.Thumbprint == certificate.Thumbprint)
                    {
                        other.Dispose();
                    }
                    else
                    {
                        chain.Add(other);
                    }
                }
            }
            return certificate;
        }
        catch (CryptographicException error)
        {
            throw new InvalidDataException("'" + path + "' is neither PEM nor a PFX file that opens with the given password: " + error.Message, error);
        }
    }

    private static void ReadPem(string text, string password, string path, List<BcCertificate> certificates, ref AsymmetricKeyParameter key)
    {
        try
        {
            using var reader = new StringReader(text);
            var pem = new PemReader(reader, new PasswordFinder(password));
            object item;
            while ((item = pem.ReadObject()) != null)
            {
                switch (item)
                {
                    case BcCertificate certificate:
                        certificates.Add(certificate);
                        break;
                    case AsymmetricCipherKeyPair pair:
                        key ??= pair.Private;
                        break;
                    case AsymmetricKeyParameter parameter when parameter.IsPrivate:
                        key ??= parameter;
                        break;
                    default:
                        break;
                }
            }
        }
        catch (Exception error) when (error is IOException || error is PemException || error is InvalidCipherTextException || error is ArgumentException)
        {
            throw new InvalidDataException("Cannot read the PEM file '" + path + "': " + error.Message, error);
        }
    }

    private static X509Certificate2 ToX509Certificate2(List<BcCertificate> certificates, AsymmetricKeyParameter key)
    {
        Pkcs12Store store = new Pkcs12StoreBuilder().Build();
        var chain = new X509CertificateEntry[certificates.Count];
        for (int i = 0; i < certificates.Count; i++)
        {
            chain[i] = new X509CertificateEntry(certificates[i]);
        }
        store.SetKeyEntry("relay", new AsymmetricKeyEntry(key), chain);
        // A random transient password: the PKCS#12 only lives in memory between two libraries.
        string transient = Guid.NewGuid().ToString("N");
        using var pfx = new MemoryStream();
        store.Save(pfx, transient.ToCharArray(), new SecureRandom());
        return new X509Certificate2(pfx.ToArray(), transient, X509KeyStorageFlags.DefaultKeySet);
    }

    internal static string ToPlainText(SecureString password)
    {
        if (password == null || password.Length == 0)
        {
            return null;
        }
        IntPtr pointer = Marshal.SecureStringToGlobalAllocUnicode(password);
        try
        {
            return Marshal.PtrToStringUni(pointer);
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(pointer);
        }
    }

    private sealed class PasswordFinder : IPasswordFinder
    {
        private readonly string _password;

        internal PasswordFinder(string password) => _password = password;

        public char[] GetPassword() =>
            _password?.ToCharArray() ?? throw new PemPasswordException("The PEM key is encrypted and no password was given.");
    }
}
