// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Submission;

/// <summary>Turns bare LF line ends into CRLF, chunk by chunk, remembering a CR that ended the previous chunk.</summary>
internal sealed class CrlfNormalizer
{
    private bool _lastWasCarriageReturn;

    /// <summary>Normalises one chunk into <paramref name="output"/>, which must hold twice <paramref name="count"/> bytes.</summary>
    /// <returns>The number of bytes written to <paramref name="output"/>.</returns>
    internal int Normalize(byte[] input, int count, byte[] output)
    {
        int written = 0;
        for (int i = 0; i < count; i++)
        {
            byte b = input[i];
            if (b == (byte)'\n' && !_lastWasCarriageReturn)
            {
                output[written++] = (byte)'\r';
            }
            output[written++] = b;
            _lastWasCarriageReturn = b == (byte)'\r';
        }
        return written;
    }
}
