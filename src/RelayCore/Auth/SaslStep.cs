// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Auth;

/// <summary>What a server SASL mechanism wants next.</summary>
internal enum SaslStepKind
{
    /// <summary>Send the challenge (334) and pass the client's answer back.</summary>
    Challenge,

    /// <summary>The client proved its identity (235).</summary>
    Succeeded,

    /// <summary>Wrong credentials (535).</summary>
    Failed,

    /// <summary>The client's answer was not valid for the mechanism (501).</summary>
    Malformed,
}

/// <summary>One step of a server SASL exchange (RFC 4954 section 4).</summary>
internal readonly struct SaslStep
{
    private SaslStep(SaslStepKind kind, byte[] challenge)
    {
        Kind = kind;
        Challenge = challenge;
    }

    internal SaslStepKind Kind { get; }

    /// <summary>The challenge bytes, before base64, for <see cref="SaslStepKind.Challenge"/>.</summary>
    internal byte[] Challenge { get; }

    internal static SaslStep Ask(byte[] challenge) => new SaslStep(SaslStepKind.Challenge, challenge);

    internal static SaslStep Done(bool succeeded) => new SaslStep(succeeded ? SaslStepKind.Succeeded : SaslStepKind.Failed, null);

    internal static SaslStep Malformed() => new SaslStep(SaslStepKind.Malformed, null);
}
