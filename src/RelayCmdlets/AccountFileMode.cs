// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Runtime.InteropServices;

namespace RelayCmdlets;

/// <summary>An account file's Unix permissions, shown as <c>ls -l</c> and PowerShell 7's <c>UnixMode</c> show them.</summary>
internal static class AccountFileMode
{
    /// <summary>The permissions text, e.g. <c>-rw-------</c> (a folder: <c>drwx------</c>); null on Windows (DPAPI protects the secrets there) and on Windows PowerShell.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The text, or null.</returns>
    internal static string Describe(string path)
    {
        bool isDirectory = Directory.Exists(path);
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows) || (!isDirectory && !File.Exists(path)))
        {
            return null;
        }
#if NET
        int mode = (int)File.GetUnixFileMode(path);
        const string Letters = "rwxrwxrwx";
        var text = new System.Text.StringBuilder(isDirectory ? "d" : "-", 10);
        for (int bit = 8; bit >= 0; bit--)
        {
            text.Append((mode & (1 << bit)) != 0 ? Letters[8 - bit] : '-');
        }
        return text.ToString();
#else
        return null;
#endif
    }

    /// <summary>Whether others than the owner may create or rename files in a folder (group or other write, no sticky bit); false on Windows.</summary>
    /// <param name="directory">The folder.</param>
    /// <returns>True when another user could replace a file in it.</returns>
    internal static bool IsReplaceableByOthers(string directory)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows) || !Directory.Exists(directory))
        {
            return false;
        }
#if NET
        UnixFileMode mode = File.GetUnixFileMode(directory);
        return (mode & (UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) != 0 && (mode & UnixFileMode.StickyBit) == 0;
#else
        return false;
#endif
    }
}
