// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Runtime.InteropServices;

namespace RelayCmdlets;

/// <summary>The spool directory used when a cmdlet is given no <c>-SpoolPath</c>.</summary>
/// <remarks>
/// The machine-wide spool when this user may write it (a service account, root), else one in the
/// user's profile, so an administrator's daemon and a user's trial run both work unconfigured.
/// </remarks>
internal static class DefaultSpoolPath
{
    private const string UnixSystemSpool = "/var/spool/relay";

    /// <summary>Finds the default spool path for this platform and user.</summary>
    /// <returns>%ProgramData%\Relay\spool on Windows; /var/spool/relay when writable, else ~/.local/share/relay/spool.</returns>
    internal static string Resolve()
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Relay", "spool");
        }
        if (CanWrite(UnixSystemSpool))
        {
            return UnixSystemSpool;
        }
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "relay", "spool");
    }

    private static bool CanWrite(string directory)
    {
        // Probe the nearest folder that exists, so that finding the default creates nothing (-WhatIf).
        string existing = directory;
        while (existing != null && !Directory.Exists(existing))
        {
            existing = Path.GetDirectoryName(existing);
        }
        if (existing == null)
        {
            return false;
        }
        // Trying is the only portable test: permission bits, ACLs and read-only mounts all count.
        string probe = Path.Combine(existing, ".relay-probe-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllBytes(probe, Array.Empty<byte>());
            File.Delete(probe);
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
