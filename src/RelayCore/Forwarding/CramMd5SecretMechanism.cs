// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Text;
using System.Threading;
using MailKit.Security;
using RelayCore.Auth;

namespace RelayCore.Forwarding;

/// <summary>
/// CRAM-MD5 (RFC 2195) from an E-MailRelay <c>md5</c> client secret: the HMAC-MD5 key states saved by
/// emailrelay-passwd stand in for the password, which this side never knows.
/// </summary>
internal sealed class CramMd5SecretMechanism : SaslMechanism
{
    private readonly string _md5Secret;

    /// <summary>Creates the mechanism; the base credential carries the user only, so MailKit never sees the secret.</summary>
    internal CramMd5SecretMechanism(string userName, string md5Secret)
        : base(userName, string.Empty)
    {
        _md5Secret = md5Secret ?? throw new ArgumentNullException(nameof(md5Secret));
    }

    /// <inheritdoc/>
    public override string MechanismName => "CRAM-MD5";

    /// <inheritdoc/>
    protected override byte[] Challenge(byte[] token, int startIndex, int length, CancellationToken cancellationToken)
    {
        if (token == null)
        {
            throw new NotSupportedException("CRAM-MD5 has no initial response: the server speaks first.");
        }
        if (IsAuthenticated)
        {
            return null;
        }
        string challenge = Encoding.UTF8.GetString(token, startIndex, length);
        IsAuthenticated = true;
        return Encoding.UTF8.GetBytes(CramMd5.ComputeResponseFromMd5Secret(Credentials.UserName, _md5Secret, challenge));
    }
}
