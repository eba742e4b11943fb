// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Runtime.InteropServices;
using RelayCore.Spool;

namespace RelayCore.OAuth;

/// <summary>A small file only its owner may read, replaced atomically: a crash leaves the old or the new content, never a mix.</summary>
internal static class OwnerOnlyFile
{
    /// <summary>Writes a temporary file beside the target (owner-only from its creation), flushes it to disk and renames it over the target.</summary>
    internal static void Write(string path, byte[] content)
    {
        string fullPath = Path.GetFullPath(path);
        string directory = Path.GetDirectoryName(fullPath);
        string temporary = Path.Combine(directory, "." + Path.GetFileName(fullPath) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            using (FileStream stream = CreateNew(temporary))
            {
                stream.Write(content, 0, content.Length);
                stream.Flush(flushToDisk: true);
            }
            Replace(temporary, fullPath);
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
        FileDurability.FlushDirectory(directory);
    }

    /// <summary>Refuses a file that the group or others may read or write (Unix); nothing to check on Windows, where DPAPI protects the secrets.</summary>
    /// <exception cref="OAuthAccountPermissionException">Group or others have access.</exception>
    internal static void CheckPermissions(string path)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return;
        }
#if NET
        UnixFileMode others = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
            | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        UnixFileMode mode = File.GetUnixFileMode(path);
        if ((mode & others) != 0)
        {
            throw new OAuthAccountPermissionException(path,
                "The account file '" + path + "' can be read by others (mode " + Convert.ToString((int)mode, 8) + "), so its secrets are not used: "
                + "run 'chmod 600 " + path + "' if the secrets are still private, or else replace them (new client secret or refresh token) and save the account again.");
        }
#else
        throw new PlatformNotSupportedException("On Linux and macOS, stored OAuth accounts need PowerShell 7 (the net8.0 build of Relay).");
#endif
    }

    private static FileStream CreateNew(string path)
    {
#if NET
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
#else
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            throw new PlatformNotSupportedException("On Linux and macOS, stored OAuth accounts need PowerShell 7 (the net8.0 build of Relay).");
        }
#endif
        return new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
    }

    private static void Replace(string source, string destination)
    {
#if NET
        File.Move(source, destination, overwrite: true);
#else
        if (File.Exists(destination))
        {
            File.Replace(source, destination, null);
        }
        else
        {
            File.Move(source, destination);
        }
#endif
    }
}
