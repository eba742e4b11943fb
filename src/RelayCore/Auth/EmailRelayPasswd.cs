// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Text;

namespace RelayCore.Auth;

/// <summary>
/// The <c>emailrelay-passwd</c> computation: a password turned into the <c>md5</c> secret form,
/// the HMAC-MD5 inner and outer states after the key block (RFC 2104), base64-encoded.
/// </summary>
/// <remarks>
/// A secrets file holding this form lets a server check CRAM-MD5 (RFC 2195) without storing the
/// password itself; the form cannot check PLAIN or LOGIN.
/// </remarks>
public static class EmailRelayPasswd
{
    private const byte InnerPad = 0x36;
    private const byte OuterPad = 0x5c;

    /// <summary>Computes the <c>md5</c> secret for a password, as <c>emailrelay-passwd</c> prints it.</summary>
    /// <param name="password">The password; taken as UTF-8.</param>
    /// <returns>The base64 of the 16-byte inner state followed by the 16-byte outer state.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="password"/> is null.</exception>
    public static string Compute(string password)
    {
        if (password == null)
        {
            throw new ArgumentNullException(nameof(password));
        }
        (uint[] inner, uint[] outer) = KeyStates(Encoding.UTF8.GetBytes(password));
        var both = new byte[Md5.StateSize * 2];
        Md5.StateToBytes(inner).CopyTo(both, 0);
        Md5.StateToBytes(outer).CopyTo(both, Md5.StateSize);
        return Convert.ToBase64String(both);
    }

    /// <summary>Computes HMAC-MD5 of a message from an <c>md5</c> secret (the saved key states).</summary>
    /// <param name="md5Secret">The base64 secret as <see cref="Compute"/> makes it.</param>
    /// <param name="message">The message to authenticate.</param>
    /// <returns>The 16-byte HMAC-MD5.</returns>
    /// <exception cref="FormatException">The secret is not base64 of 32 bytes.</exception>
    public static byte[] HmacMd5FromSecret(string md5Secret, byte[] message)
    {
        if (message == null)
        {
            throw new ArgumentNullException(nameof(message));
        }
        byte[] states = DecodeSecret(md5Secret);
        return HmacFromStates(Md5.StateFromBytes(states.AsSpan(0, Md5.StateSize)), Md5.StateFromBytes(states.AsSpan(Md5.StateSize)), message);
    }

    /// <summary>Computes HMAC-MD5 (RFC 2104) of a message with a plain key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="message">The message.</param>
    /// <returns>The 16-byte HMAC-MD5.</returns>
    public static byte[] HmacMd5(byte[] key, byte[] message)
    {
        if (key == null)
        {
            throw new ArgumentNullException(nameof(key));
        }
        if (message == null)
        {
            throw new ArgumentNullException(nameof(message));
        }
        (uint[] inner, uint[] outer) = KeyStates(key);
        return HmacFromStates(inner, outer, message);
    }

    /// <summary>Tells whether text has the shape of an <c>md5</c> secret (base64 of 32 bytes).</summary>
    /// <param name="secret">The text.</param>
    /// <returns>True when it decodes to 32 bytes.</returns>
    public static bool IsValidSecret(string secret)
    {
        try
        {
            DecodeSecret(secret);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    private static byte[] DecodeSecret(string md5Secret)
    {
        byte[] states = Convert.FromBase64String(md5Secret ?? string.Empty);
        if (states.Length != Md5.StateSize * 2)
        {
            throw new FormatException("An md5 secret is the base64 of 32 bytes; this one has " + states.Length + ".");
        }
        return states;
    }

    private static (uint[] Inner, uint[] Outer) KeyStates(byte[] key)
    {
        byte[] block = new byte[Md5.BlockSize];
        (key.Length > Md5.BlockSize ? Md5.Hash(key) : key).CopyTo(block, 0);
        var padded = new byte[Md5.BlockSize];
        uint[] inner = Md5.InitialState();
        uint[] outer = Md5.InitialState();
        for (int i = 0; i < Md5.BlockSize; i++)
        {
            padded[i] = (byte)(block[i] ^ InnerPad);
        }
        Md5.Compress(inner, padded);
        for (int i = 0; i < Md5.BlockSize; i++)
        {
            padded[i] = (byte)(block[i] ^ OuterPad);
        }
        Md5.Compress(outer, padded);
        return (inner, outer);
    }

    private static byte[] HmacFromStates(uint[] inner, uint[] outer, byte[] message)
    {
        byte[] innerDigest = Md5.HashFrom(inner, Md5.BlockSize, message);
        return Md5.HashFrom(outer, Md5.BlockSize, innerDigest);
    }
}
