// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using RelayCore.Auth;
using RelayCore.Hosting;
using RelayCore.Spool;

namespace RelayCore.Smtp;

/// <summary>What every session of one server shares: validated options, spool, secrets, certificate, counters.</summary>
internal sealed class SmtpServerContext
{
    private readonly ConcurrentDictionary<SmtpCapabilities, string> _ehloReplies = new ConcurrentDictionary<SmtpCapabilities, string>();
    private int _isStopping;

    internal SmtpServerContext(RelayServerOptions options, SpoolDirectory spool, SecretsFile secrets, X509Certificate2 certificate, X509Certificate2Collection chain, string domain)
    {
        Options = options;
        Spool = spool;
        Secrets = secrets;
        Certificate = certificate;
        Chain = chain;
#if NET
        // Built once: the handshake then sends the intermediates without a chain build per connection.
        CertificateContext = certificate == null ? null : System.Net.Security.SslStreamCertificateContext.Create(certificate, chain, offline: true);
#endif
        Domain = domain;
        MaxMessageSize = options.MaxMessageSize;
        HasServerAccounts = secrets != null && secrets.HasServerAccounts;
        BaseCapabilities = SmtpCapabilities.Pipelining | SmtpCapabilities.EightBitMime | SmtpCapabilities.Size |
            SmtpCapabilities.SmtpUtf8 | SmtpCapabilities.EnhancedStatusCodes | SmtpCapabilities.Chunking | SmtpCapabilities.BinaryMime;
    }

    internal RelayServerOptions Options { get; }

    internal SpoolDirectory Spool { get; }

    /// <summary>The server secrets; null when none were configured.</summary>
    internal SecretsFile Secrets { get; }

    /// <summary>The TLS certificate; null when TLS is not configured.</summary>
    internal X509Certificate2 Certificate { get; }

    /// <summary>The intermediate certificates that came with <see cref="Certificate"/>.</summary>
    internal X509Certificate2Collection Chain { get; }

#if NET
    /// <summary>The certificate with its chain, as the TLS handshake sends it; null when TLS is not configured.</summary>
    internal System.Net.Security.SslStreamCertificateContext CertificateContext { get; }
#endif

    internal string Domain { get; }

    internal long MaxMessageSize { get; }

    /// <summary>Whether the secrets hold any account to log in as, so AUTH is worth offering.</summary>
    internal bool HasServerAccounts { get; }

    /// <summary>The extensions every EHLO reply offers; TLS and AUTH are added per session.</summary>
    internal SmtpCapabilities BaseCapabilities { get; }

    internal ServerCounters Counters { get; } = new ServerCounters();

    /// <summary>The server's forwarding when it forwards each message before replying (immediate mode); null otherwise.</summary>
    internal ServerForwarding ImmediateForwarding { get; set; }

    internal bool IsStopping => Volatile.Read(ref _isStopping) != 0;

    /// <summary>Marks the server as stopping; a full fence, paired with the session's own flag.</summary>
    internal void BeginStopping() => Interlocked.Exchange(ref _isStopping, 1);

    /// <summary>The whole multi-line EHLO reply (without the last CRLF) for a set of capabilities; built once per set.</summary>
    internal string EhloReply(SmtpCapabilities capabilities) => _ehloReplies.GetOrAdd(capabilities, BuildEhloReply);

    internal bool IsLogging(RelayLogLevel level) => Options.Log != null && level >= Options.LogLevel;

    internal void Log(RelayLogLevel level, string text)
    {
        if (IsLogging(level))
        {
            try
            {
                Options.Log(level, text);
            }
            catch (Exception error) when (!(error is OutOfMemoryException))
            {
                // A failing log sink must not take a session down with it.
            }
        }
    }

    private string BuildEhloReply(SmtpCapabilities capabilities)
    {
        var lines = new List<string> { "250-" + Domain + " says hello" };
        foreach (string keyword in EhloKeywords(capabilities))
        {
            lines.Add("250-" + keyword);
        }
        lines.Add("250 HELP");
        return string.Join("\r\n", lines);
    }

    private IEnumerable<string> EhloKeywords(SmtpCapabilities capabilities)
    {
        if ((capabilities & SmtpCapabilities.Authentication) != 0)
        {
            yield return "AUTH " + SaslServer.Mechanisms;
        }
        if ((capabilities & SmtpCapabilities.StartTls) != 0)
        {
            yield return "STARTTLS";
        }
        if ((capabilities & SmtpCapabilities.Pipelining) != 0)
        {
            yield return "PIPELINING";
        }
        if ((capabilities & SmtpCapabilities.EightBitMime) != 0)
        {
            yield return "8BITMIME";
        }
        if ((capabilities & SmtpCapabilities.BinaryMime) != 0)
        {
            yield return "BINARYMIME";
        }
        if ((capabilities & SmtpCapabilities.Chunking) != 0)
        {
            yield return "CHUNKING";
        }
        if ((capabilities & SmtpCapabilities.Size) != 0)
        {
            yield return MaxMessageSize > 0 ? "SIZE " + MaxMessageSize.ToString(CultureInfo.InvariantCulture) : "SIZE";
        }
        if ((capabilities & SmtpCapabilities.SmtpUtf8) != 0)
        {
            yield return "SMTPUTF8";
        }
        if ((capabilities & SmtpCapabilities.EnhancedStatusCodes) != 0)
        {
            yield return "ENHANCEDSTATUSCODES";
        }
    }
}
