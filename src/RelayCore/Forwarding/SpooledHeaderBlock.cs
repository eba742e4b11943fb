// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using MimeKit;

namespace RelayCore.Forwarding;

/// <summary>
/// A spooled message's whole header block as one opaque MimeKit header: MimeKit writes an invalid
/// header's raw bytes and nothing else, so the header lines reach the wire exactly as spooled.
/// </summary>
internal sealed class SpooledHeaderBlock : Header
{
    internal SpooledHeaderBlock(byte[] block)
        : base(ParserOptions.Default, block, Array.Empty<byte>(), invalid: true)
    {
    }
}
