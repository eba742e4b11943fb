// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using RelayCore.OAuth;

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

    /// <summary>The OAuth2 account's provider, when the account has one.</summary>
    internal IAccessTokenProvider TokenProvider { get; set; }

    /// <summary>Each time a token was asked of <see cref="TokenProvider"/>, in order (a second after the next hop refused the first).</summary>
    internal List<TokenAttempt> TokenAttempts { get; } = new List<TokenAttempt>();

    /// <summary>One request for a token and what became of it.</summary>
    internal sealed class TokenAttempt
    {
        internal TokenAttempt(TimeSpan elapsed, AccessToken token, TokenAcquisitionException error)
        {
            Elapsed = elapsed;
            Token = token;
            Error = error;
        }

        internal TimeSpan Elapsed { get; }

        /// <summary>The token; held only while the probe reads its claims, never copied into its result.</summary>
        internal AccessToken Token { get; }

        internal TokenAcquisitionException Error { get; }

        /// <summary>The next hop's reply when it refused the token (535), with its decoded base64 JSON error.</summary>
        internal (int? Code, string Text, string Error)? Refusal { get; set; }
    }
}
