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

    private static long s_sequence;

    /// <summary>This process's id, as the ids it makes carry it.</summary>
    internal static int ProcessId { get; } = GetProcessId();

    /// <summary>Returns a new id, unique across processes sharing a spool.</summary>
    internal static string Next()
    {
        long sequence = Interlocked.Increment(ref s_sequence);
        long seconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return string.Concat(
            Prefix,
            ProcessId.ToString(CultureInfo.InvariantCulture), ".",
            seconds.ToString(CultureInfo.InvariantCulture), ".",
            sequence.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Reads the receipt time out of an id of E-MailRelay's shape.</summary>
    internal static bool TryGetTime(string id, out DateTimeOffset time)
    {
        time = default;
        if (!TryParse(id, out _, out long seconds, out _))
        {
            return false;
        }
        time = DateTimeOffset.FromUnixTimeSeconds(seconds);
        return true;
    }

    /// <summary>Reads the process id out of an id of E-MailRelay's shape.</summary>
    internal static bool TryGetProcessId(string id, out int processId)
    {
        bool parsed = TryParse(id, out long pid, out _, out _) && pid <= int.MaxValue;
        processId = parsed ? (int)pid : 0;
        return parsed;
    }

    /// <summary>Orders ids by receipt time, then process, then sequence; ids of other shapes last, by text.</summary>
    internal static int Compare(string left, string right)
    {
        bool leftParsed = TryParse(left, out long leftPid, out long leftSeconds, out long leftSequence);
        bool rightParsed = TryParse(right, out long rightPid, out long rightSeconds, out long rightSequence);
        if (leftParsed != rightParsed)
        {
            return leftParsed ? -1 : 1;
        }
        if (leftParsed)
        {
            int order = leftSeconds.CompareTo(rightSeconds);
            order = order != 0 ? order : leftPid.CompareTo(rightPid);
            order = order != 0 ? order : leftSequence.CompareTo(rightSequence);
            if (order != 0)
            {
                return order;
            }
        }
        return string.CompareOrdinal(left, right);
    }

    private static bool TryParse(string id, out long processId, out long seconds, out long sequence)
    {
        processId = seconds = sequence = 0;
        string[] parts = id.Split('.');
        return parts.Length == 4 && parts[0] + "." == Prefix &&
            long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out processId) &&
            long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out seconds) &&
            long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }

    private static int GetProcessId()
    {
        using Process current = Process.GetCurrentProcess();
        return current.Id;
    }
}
