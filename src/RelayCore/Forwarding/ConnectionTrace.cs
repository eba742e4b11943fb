// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Forwarding;

/// <summary>What <see cref="NextHopConnector"/> saw while opening one session, step by step; filled in for the probe.</summary>
internal sealed class ConnectionTrace
{
    internal ProtocolTranscript Transcript { get; set; }

    internal ProtocolTranscript PopTranscript { get; set; }

    internal TimeSpan? PopElapsed { get; set; }

    internal string PopDetail { get; set; }

    internal TimeSpan? ConnectElapsed { get; set; }

    internal string ConnectDetail { get; set; }

    internal TimeSpan? SocksElapsed { get; set; }

    /// <summary>When (on the SMTP transcript's clock) the TCP or SOCKS connection was up.</summary>
    internal TimeSpan ConnectedAt { get; set; }

    internal ServerCertificateInfo Certificate { get; set; }

    internal TimeSpan? AuthElapsed { get; set; }

    internal string AuthDetail { get; set; }
}
