// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Smtp;

/// <summary>The ESMTP extensions a server offers in its EHLO reply.</summary>
[Flags]
public enum SmtpCapabilities
{
    /// <summary>No extensions.</summary>
    None = 0,

    /// <summary>PIPELINING: commands sent in batches without waiting for each reply (RFC 2920).</summary>
    Pipelining = 1 << 0,

    /// <summary>8BITMIME: <c>BODY=8BITMIME</c> content (RFC 6152).</summary>
    EightBitMime = 1 << 1,

    /// <summary>SIZE: the fixed maximum message size and MAIL's <c>SIZE=</c> parameter (RFC 1870).</summary>
    Size = 1 << 2,

    /// <summary>SMTPUTF8: UTF-8 mailbox names and headers (RFC 6531).</summary>
    SmtpUtf8 = 1 << 3,

    /// <summary>ENHANCEDSTATUSCODES: replies carry <c>class.subject.detail</c> codes (RFC 2034, RFC 3463).</summary>
    EnhancedStatusCodes = 1 << 4,

    /// <summary>STARTTLS: upgrade the connection to TLS (RFC 3207).</summary>
    StartTls = 1 << 5,

    /// <summary>AUTH: SASL authentication, here PLAIN, LOGIN and CRAM-MD5 (RFC 4954).</summary>
    Authentication = 1 << 6,

    /// <summary>CHUNKING: the BDAT command (RFC 3030).</summary>
    Chunking = 1 << 7,

    /// <summary>BINARYMIME: <c>BODY=BINARYMIME</c> content sent with BDAT (RFC 3030).</summary>
    BinaryMime = 1 << 8,
}
