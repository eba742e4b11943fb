// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Forwarding;

/// <summary>One step of a connection probe: what was done, how it went, how long it took, and what the next hop said.</summary>
public sealed class ConnectionProbeStep
{
    /// <summary>Creates a step.</summary>
    public ConnectionProbeStep(ConnectionStep step, ConnectionProbeOutcome outcome, TimeSpan elapsed, string detail, int? replyCode)
    {
        Step = step;
        Outcome = outcome;
        Elapsed = elapsed;
        Detail = detail ?? string.Empty;
        ReplyCode = replyCode;
    }

    /// <summary>The step.</summary>
    public ConnectionStep Step { get; }

    /// <summary>Succeeded, Failed or Skipped.</summary>
    public ConnectionProbeOutcome Outcome { get; }

    /// <summary>How long the step took (zero when skipped).</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>What happened: the banner, the extensions, the certificate, the mechanism, or why it failed.</summary>
    public string Detail { get; }

    /// <summary>The reply code that ended the step, when there was one.</summary>
    public int? ReplyCode { get; }

    /// <inheritdoc/>
    public override string ToString() => Step + " " + Outcome + " (" + Elapsed.TotalMilliseconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture) + " ms) " + Detail;
}
