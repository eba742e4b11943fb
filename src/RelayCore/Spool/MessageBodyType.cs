// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Spool;

/// <summary>The body type a client declared with MAIL FROM's BODY= parameter (RFC 6152, RFC 3030).</summary>
public enum MessageBodyType
{
    /// <summary>No BODY= parameter was given (envelope value <c>unknown</c>).</summary>
    Unknown,

    /// <summary><c>BODY=7BIT</c> (envelope value <c>7bit</c>).</summary>
    SevenBit,

    /// <summary><c>BODY=8BITMIME</c> (envelope value <c>8bit</c>).</summary>
    EightBitMime,

    /// <summary><c>BODY=BINARYMIME</c> (envelope value <c>binarymime</c>).</summary>
    BinaryMime,
}
