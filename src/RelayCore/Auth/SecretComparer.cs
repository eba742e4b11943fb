// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Runtime.CompilerServices;

namespace RelayCore.Auth;

/// <summary>Comparisons of secrets that take the same time wherever the first difference is.</summary>
/// <remarks>CryptographicOperations.FixedTimeEquals is missing on netstandard2.0.</remarks>
internal static class SecretComparer
{
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.NoOptimization)]
    internal static bool FixedTimeEquals(byte[] left, byte[] right)
    {
        if (left.Length != right.Length)
        {
            return false;
        }
        int difference = 0;
        for (int i = 0; i < left.Length; i++)
        {
            difference |= left[i] ^ right[i];
        }
        return difference == 0;
    }
}
