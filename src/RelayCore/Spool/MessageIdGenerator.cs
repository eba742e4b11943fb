// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;

namespace RelayCore.Spool;

/// <summary>Makes E-MailRelay message ids: <c>emailrelay.&lt;pid&gt;.&lt;unix-seconds&gt;.&lt;seq&gt;</c>.</summary>
/// <remarks>
/// The process id and time keep ids unique across processes sharing one spool; the sequence
/// counts up per process from 1 and never repeats within it, so two ids of one second differ.
/// </remarks>
internal static class MessageIdGenerator
{
    internal const string Prefix = "emailrelay.";

    private static readonly int s_processId = GetProcessId();
    private static long s_sequence;

    /// <summary>Returns a new id, unique across processes sharing a spool.</summary>
    internal static string Next()
    {
        long sequence = Interlocked.Increment(ref s_sequence);
        long seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return string.Concat(
            Prefix,
            s_processId.ToString(CultureInfo.InvariantCulture), ".",
            seconds.ToString(CultureInfo.InvariantCulture), ".",
            sequence.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Reads the receipt time out of an id of E-MailRelay's shape.</summary>
    internal static bool TryGetTime(string id, out DateTimeOffset time)
    {
        time = default;
        string[] parts = id.Split('.');
        if (parts.Length != 4 || parts[0] + "." != Prefix ||
            !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
        {
            return false;
        }
        time = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }

    private static int GetProcessId()
    {
        using Process current = Process.GetCurrentProcess();
        return current.Id;
    }
}
