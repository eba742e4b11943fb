// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Buffers.Binary;

namespace RelayCore.Auth;

/// <summary>
/// MD5 (RFC 1321) with its chaining state exposed, so a hash can resume from a saved state.
/// </summary>
/// <remarks>
/// E-MailRelay's <c>md5</c> secrets hold the HMAC-MD5 inner and outer states after the key block;
/// CRAM-MD5 against them needs the compression function started from those states, which the
/// platform's MD5 does not offer. Not used for anything else.
/// </remarks>
internal static class Md5
{
    internal const int BlockSize = 64;
    internal const int StateSize = 16;

    private static readonly uint[] s_initial = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };

    private static readonly int[] s_shifts =
    {
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    };

    private static readonly uint[] s_constants = CreateConstants();

    /// <summary>The state before any block: RFC 1321 section 3.3.</summary>
    internal static uint[] InitialState() => (uint[])s_initial.Clone();

    /// <summary>Hashes data from the initial state.</summary>
    internal static byte[] Hash(ReadOnlySpan<byte> data) => HashFrom(InitialState(), 0, data);

    /// <summary>Continues a hash from a state reached after <paramref name="prefixLength"/> bytes (a multiple of 64).</summary>
    internal static byte[] HashFrom(uint[] state, long prefixLength, ReadOnlySpan<byte> data)
    {
        uint[] working = (uint[])state.Clone();
        int whole = data.Length - (data.Length % BlockSize);
        for (int offset = 0; offset < whole; offset += BlockSize)
        {
            Compress(working, data.Slice(offset, BlockSize));
        }
        // Padding: 0x80, zeros, then the bit length, filling one or two final blocks.
        int remaining = data.Length - whole;
        Span<byte> tail = stackalloc byte[BlockSize * 2];
        data.Slice(whole).CopyTo(tail);
        tail[remaining] = 0x80;
        int tailLength = remaining + 9 <= BlockSize ? BlockSize : BlockSize * 2;
        BinaryPrimitives.WriteUInt64LittleEndian(tail.Slice(tailLength - 8), (ulong)(prefixLength + data.Length) * 8);
        for (int offset = 0; offset < tailLength; offset += BlockSize)
        {
            Compress(working, tail.Slice(offset, BlockSize));
        }
        return StateToBytes(working);
    }

    /// <summary>Writes a state as 16 little-endian bytes (the digest form).</summary>
    internal static byte[] StateToBytes(uint[] state)
    {
        var bytes = new byte[StateSize];
        for (int i = 0; i < 4; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), state[i]);
        }
        return bytes;
    }

    /// <summary>Reads a state from 16 little-endian bytes.</summary>
    internal static uint[] StateFromBytes(ReadOnlySpan<byte> bytes)
    {
        var state = new uint[4];
        for (int i = 0; i < 4; i++)
        {
            state[i] = BinaryPrimitives.ReadUInt32LittleEndian(bytes.Slice(i * 4));
        }
        return state;
    }

    /// <summary>The MD5 compression function: folds one 64-byte block into the state.</summary>
    internal static void Compress(uint[] state, ReadOnlySpan<byte> block)
    {
        Span<uint> m = stackalloc uint[16];
        for (int i = 0; i < 16; i++)
        {
            m[i] = BinaryPrimitives.ReadUInt32LittleEndian(block.Slice(i * 4));
        }
        uint a = state[0], b = state[1], c = state[2], d = state[3];
        for (int i = 0; i < 64; i++)
        {
            uint f;
            int g;
            if (i < 16)
            {
                f = (b & c) | (~b & d);
                g = i;
            }
            else if (i < 32)
            {
                f = (d & b) | (~d & c);
                g = ((5 * i) + 1) % 16;
            }
            else if (i < 48)
            {
                f = b ^ c ^ d;
                g = ((3 * i) + 5) % 16;
            }
            else
            {
                f = c ^ (b | ~d);
                g = (7 * i) % 16;
            }
            uint rotated = a + f + s_constants[i] + m[g];
            a = d;
            d = c;
            c = b;
            b += (rotated << s_shifts[i]) | (rotated >> (32 - s_shifts[i]));
        }
        state[0] += a;
        state[1] += b;
        state[2] += c;
        state[3] += d;
    }

    private static uint[] CreateConstants()
    {
        var constants = new uint[64];
        for (int i = 0; i < 64; i++)
        {
            constants[i] = (uint)(long)Math.Floor(Math.Abs(Math.Sin(i + 1)) * 4294967296.0);
        }
        return constants;
    }
}
