// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Forwarding;

/// <summary>How one step of a connection probe went.</summary>
public enum ConnectionProbeOutcome
{
    /// <summary>The step worked.</summary>
    Succeeded,

    /// <summary>The step failed; the probe stopped here, unless the next hop refused an OAuth2 token, which is renewed and AUTH tried once more.</summary>
    Failed,

    /// <summary>The step was not configured (no POP-before-SMTP, no account) or not needed (TLS turned off or not offered).</summary>
    Skipped,
}
