// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RelayCore.Auth;

/// <summary>CRAM-MD5 (RFC 2195): challenges, client responses and their check against a secrets entry.</summary>
public static class CramMd5
{
    /// <summary>Makes a fresh challenge in the RFC 2195 shape <c>&lt;random.time@domain&gt;</c>.</summary>
    /// <param name="domain">The server's domain.</param>
    /// <returns>The challenge text (before base64).</returns>
    public static string CreateChallenge(string domain)
    {
        var random = new byte[8];
        using (var generator = RandomNumberGenerator.Create())
        {
            generator.GetBytes(random);
        }
        long seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return "<" + BitConverter.ToUInt64(random, 0).ToString(CultureInfo.InvariantCulture) + "." +
            seconds.ToString(CultureInfo.InvariantCulture) + "@" + (string.IsNullOrEmpty(domain) ? "localhost" : domain) + ">";
    }

    /// <summary>Computes a client's response: the user id, a space and the lower-case hex HMAC-MD5 of the challenge.</summary>
    /// <param name="userId">The user id.</param>
    /// <param name="password">The password (the HMAC key).</param>
    /// <param name="challenge">The challenge text as decoded from base64.</param>
    /// <returns>The response text (before base64).</returns>
    public static string ComputeResponse(string userId, string password, string challenge)
    {
        if (userId == null)
        {
            throw new ArgumentNullException(nameof(userId));
        }
        if (password == null)
        {
            throw new ArgumentNullException(nameof(password));
        }
        return userId + " " + ToHex(EmailRelayPasswd.HmacMd5(Encoding.UTF8.GetBytes(password), Encoding.UTF8.GetBytes(challenge ?? string.Empty)));
    }

    /// <summary>Computes a client's response from an <c>md5</c> secret (the saved HMAC-MD5 key states) instead of the password.</summary>
    /// <param name="userId">The user id.</param>
    /// <param name="md5Secret">The base64 key states, as emailrelay-passwd prints them.</param>
    /// <param name="challenge">The challenge text as decoded from base64.</param>
    /// <returns>The response text (before base64).</returns>
    /// <exception cref="FormatException">The secret is not base64 of 32 bytes.</exception>
    internal static string ComputeResponseFromMd5Secret(string userId, string md5Secret, string challenge)
    {
        if (userId == null)
        {
            throw new ArgumentNullException(nameof(userId));
        }
        return userId + " " + ToHex(EmailRelayPasswd.HmacMd5FromSecret(md5Secret, Encoding.UTF8.GetBytes(challenge ?? string.Empty)));
    }

    /// <summary>Checks a client's digest against a server account, plain or md5 form.</summary>
    /// <param name="account">The server account (plain, plain:b or md5).</param>
    /// <param name="challenge">The challenge the server sent.</param>
    /// <param name="hexDigest">The digest part of the client's response.</param>
    /// <returns>Whether the digest is right.</returns>
    public static bool Verify(SecretEntry account, string challenge, string hexDigest)
    {
        if (account == null || hexDigest == null)
        {
            return false;
        }
        byte[] message = Encoding.UTF8.GetBytes(challenge ?? string.Empty);
        byte[] expected;
        if (account.Type == SecretType.Md5)
        {
            expected = EmailRelayPasswd.HmacMd5FromSecret(account.Secret, message);
        }
        else if (account.HasPlainSecret)
        {
            expected = EmailRelayPasswd.HmacMd5(Encoding.UTF8.GetBytes(account.Secret), message);
        }
        else
        {
            return false;
        }
        return SecretComparer.FixedTimeEquals(Encoding.ASCII.GetBytes(ToHex(expected)), Encoding.ASCII.GetBytes(hexDigest.ToLowerInvariant()));
    }

    private static string ToHex(byte[] bytes)
    {
        var hex = new StringBuilder(bytes.Length * 2);
        foreach (byte b in bytes)
        {
            hex.Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }
        return hex.ToString();
    }
}
