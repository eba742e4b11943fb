// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using RelayCore.Auth;
using RelayCore.Hosting;
using RelayCore.Spool;

namespace RelayCore.Smtp;

/// <summary>What every session of one server shares: validated options, spool, secrets, certificate, counters.</summary>
internal sealed class SmtpServerContext
{
    private int _isStopping;

    internal SmtpServerContext(RelayServerOptions options, SpoolDirectory spool, SecretsFile secrets, X509Certificate2 certificate, string domain)
    {
        Options = options;
        Spool = spool;
        Secrets = secrets;
        Certificate = certificate;
        Domain = domain;
        MaxMessageSize = options.MaxMessageSize;
        BaseCapabilities = SmtpCapabilities.Pipelining | SmtpCapabilities.EightBitMime | SmtpCapabilities.Size |
            SmtpCapabilities.SmtpUtf8 | SmtpCapabilities.EnhancedStatusCodes | SmtpCapabilities.Chunking | SmtpCapabilities.BinaryMime;
    }

    internal RelayServerOptions Options { get; }

    internal SpoolDirectory Spool { get; }

    /// <summary>The server secrets; null when none were configured.</summary>
    internal SecretsFile Secrets { get; }

    /// <summary>The TLS certificate; null when TLS is not configured.</summary>
    internal X509Certificate2 Certificate { get; }

    internal string Domain { get; }

    internal long MaxMessageSize { get; }

    /// <summary>The extensions every EHLO reply offers; TLS and AUTH are added per session.</summary>
    internal SmtpCapabilities BaseCapabilities { get; }

    internal ServerCounters Counters { get; } = new ServerCounters();

    internal bool IsStopping => Volatile.Read(ref _isStopping) != 0;

    /// <summary>Marks the server as stopping; a full fence, paired with the session's own flag.</summary>
    internal void BeginStopping() => Interlocked.Exchange(ref _isStopping, 1);

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
}
