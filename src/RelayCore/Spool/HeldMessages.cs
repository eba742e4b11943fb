// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.IO;
using System.Runtime.InteropServices;

namespace RelayCore.Spool;

/// <summary>The messages this process is receiving or has claimed, so recovery never takes them.</summary>
/// <remarks>
/// File names cannot say whether a <c>.new</c> or <c>.busy</c> file is still in use: a restarted
/// server may get its old process id back (containers start at pid 1), so "my pid" alone does
/// not mean "mine and live". This set does, for this process.
/// </remarks>
internal static class HeldMessages
{
    private static readonly ConcurrentDictionary<string, byte> s_held = new ConcurrentDictionary<string, byte>(
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);

    internal static void Hold(string spoolPath, string id) => s_held[Key(spoolPath, id)] = 0;

    internal static void Release(string spoolPath, string id) => s_held.TryRemove(Key(spoolPath, id), out _);

    internal static bool IsHeld(string spoolPath, string id) => s_held.ContainsKey(Key(spoolPath, id));

    private static string Key(string spoolPath, string id) => Path.Combine(spoolPath, id);
}
