// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;

namespace RelayCore.Forwarding;

/// <summary>The certificate a next hop presented for TLS, and what checking it found.</summary>
public sealed class ServerCertificateInfo
{
    /// <summary>Creates the description.</summary>
    public ServerCertificateInfo(
        string subject,
        string issuer,
        DateTime notBefore,
        DateTime notAfter,
        string thumbprint,
        IReadOnlyList<string> subjectAlternativeNames,
        string validationErrors,
        bool isTrusted)
    {
        Subject = subject ?? string.Empty;
        Issuer = issuer ?? string.Empty;
        NotBefore = notBefore;
        NotAfter = notAfter;
        Thumbprint = thumbprint ?? string.Empty;
        SubjectAlternativeNames = subjectAlternativeNames ?? Array.Empty<string>();
        ValidationErrors = validationErrors ?? string.Empty;
        IsTrusted = isTrusted;
    }

    /// <summary>The certificate's subject, e.g. <c>CN=smtp.example.net</c>.</summary>
    public string Subject { get; }

    /// <summary>The issuer's name.</summary>
    public string Issuer { get; }

    /// <summary>The start of the validity period (UTC).</summary>
    public DateTime NotBefore { get; }

    /// <summary>The end of the validity period (UTC).</summary>
    public DateTime NotAfter { get; }

    /// <summary>The SHA-1 thumbprint, hex.</summary>
    public string Thumbprint { get; }

    /// <summary>The subject alternative names, as <c>DNS:name</c> and <c>IP:address</c>.</summary>
    public IReadOnlyList<string> SubjectAlternativeNames { get; }

    /// <summary>What verification found wrong (untrusted issuer, name mismatch, expired); empty when nothing.</summary>
    public string ValidationErrors { get; }

    /// <summary>Whether the certificate verified (system store or the CA file, and the expected name).</summary>
    public bool IsTrusted { get; }

    /// <inheritdoc/>
    public override string ToString() => Subject + " (issuer " + Issuer + ", expires " + NotAfter.ToString("u", System.Globalization.CultureInfo.InvariantCulture) + ")";
}
