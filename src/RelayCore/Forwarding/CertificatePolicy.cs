// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using RelayCore.Net;

namespace RelayCore.Forwarding;

/// <summary>
/// How the forwarding client checks next hops' certificates (the system store, plus the CA file's
/// certificates as extra trust anchors; the expected name; the explicit skip) and which client
/// certificate it presents. Files are read once, when the configuration is checked.
/// </summary>
internal sealed class CertificatePolicy
{
    private const string PemBegin = "-----BEGIN CERTIFICATE-----";
    private const string PemEnd = "-----END CERTIFICATE-----";

    private readonly List<X509Certificate2> _anchors;
    private readonly bool _skip;

    /// <exception cref="FileNotFoundException">The CA file or client certificate does not exist.</exception>
    /// <exception cref="InvalidDataException">The CA file holds no certificate, or the client certificate cannot be read.</exception>
    internal CertificatePolicy(ForwardingOptions options)
    {
        _skip = options.SkipCertificateValidation;
        _anchors = string.IsNullOrEmpty(options.CaFilePath) ? new List<X509Certificate2>() : ReadPemCertificates(options.CaFilePath);
        if (!string.IsNullOrEmpty(options.ClientCertificatePath))
        {
            ClientCertificate = ServerCertificate.Load(options.ClientCertificatePath, options.ClientCertificateKeyPath, options.ClientCertificatePassword);
        }
    }

    /// <summary>The certificate to present to next hops that ask for one; null for none.</summary>
    internal X509Certificate2 ClientCertificate { get; }

    /// <summary>Makes the validation callback of one connection to <paramref name="expectedName"/>; it hands what it found to <paramref name="record"/>.</summary>
    internal RemoteCertificateValidationCallback CreateCallback(string expectedName, Action<ServerCertificateInfo> record) =>
        (sender, certificate, chain, errors) =>
        {
            if (certificate == null)
            {
                record(null);
                return _skip;
            }
            using var presented = new X509Certificate2(certificate);
            string problem = Check(presented, chain, errors, expectedName);
            record(Describe(presented, problem));
            return problem.Length == 0 || _skip;
        };

    private string Check(X509Certificate2 certificate, X509Chain chain, SslPolicyErrors errors, string expectedName)
    {
        var problems = new List<string>();
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            problems.Add("its names do not include '" + expectedName + "' (set the TLS server name if the next hop is reached by another name)");
        }
        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0 && !IsAnchored(certificate, chain))
        {
            string statuses = string.Join("; ", (chain?.ChainStatus ?? Array.Empty<X509ChainStatus>())
                .Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct());
            problems.Add("it does not chain to a trusted CA" + (_anchors.Count > 0 ? " (system store or the CA file)" : " (system store; a CA file can add one)") +
                (statuses.Length > 0 ? ": " + statuses : string.Empty));
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            problems.Add("no certificate was presented");
        }
        return string.Join("; ", problems);
    }

    /// <summary>Whether the certificate chains to one of the CA file's certificates (itself included: a pinned self-signed certificate).</summary>
    private bool IsAnchored(X509Certificate2 certificate, X509Chain presented)
    {
        if (_anchors.Count == 0)
        {
            return false;
        }
        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // The anchors are not in the system store, so an "unknown" root is expected; whether it is ours is checked below.
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
        chain.ChainPolicy.ExtraStore.AddRange(_anchors.ToArray());
        if (presented != null)
        {
            // The intermediates the next hop sent, so a CA file may hold just the root.
            foreach (X509ChainElement element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }
        if (!chain.Build(certificate))
        {
            return false;
        }
        foreach (X509ChainElement element in chain.ChainElements)
        {
            if (_anchors.Any(anchor => anchor.RawData.SequenceEqual(element.Certificate.RawData)))
            {
                return true;
            }
        }
        return false;
    }

    private static ServerCertificateInfo Describe(X509Certificate2 certificate, string problem)
    {
        var names = new List<string>();
        X509Extension extension = certificate.Extensions["2.5.29.17"];
        if (extension != null)
        {
            // Format() gives "DNS Name=a, IP Address=1.2.3.4" on every platform .NET runs on.
            foreach (string part in extension.Format(false).Split(new[] { ", ", "\n", "\r" }, StringSplitOptions.RemoveEmptyEntries))
            {
                names.Add(part.Trim().Replace("DNS Name=", "DNS:").Replace("IP Address=", "IP:"));
            }
        }
        return new ServerCertificateInfo(certificate.Subject, certificate.Issuer, certificate.NotBefore.ToUniversalTime(), certificate.NotAfter.ToUniversalTime(),
            certificate.Thumbprint, names, problem, problem.Length == 0);
    }

    private static List<X509Certificate2> ReadPemCertificates(string path)
    {
        string text = File.ReadAllText(path, Encoding.ASCII);
        var certificates = new List<X509Certificate2>();
        int start = text.IndexOf(PemBegin, StringComparison.Ordinal);
        while (start >= 0)
        {
            int end = text.IndexOf(PemEnd, start, StringComparison.Ordinal);
            if (end < 0)
            {
                break;
            }
            string body = text.Substring(start + PemBegin.Length, end - start - PemBegin.Length);
            try
            {
                certificates.Add(new X509Certificate2(Convert.FromBase64String(body.Replace("\r", string.Empty).Replace("\n", string.Empty).Trim())));
            }
            catch (Exception error) when (error is FormatException || error is CryptographicException)
            {
                throw new InvalidDataException("The CA file '" + path + "' has a certificate that cannot be read: " + error.Message, error);
            }
            start = text.IndexOf(PemBegin, end, StringComparison.Ordinal);
        }
        if (certificates.Count == 0)
        {
            throw new InvalidDataException("The CA file '" + path + "' holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
        }
        return certificates;
    }
}
