// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Runtime.InteropServices;

namespace RelayCore.Spool;

/// <summary>The platform's ways of getting written files and renames onto the disk.</summary>
/// <remarks>
/// Linux: one <c>syncfs()</c> writes back every dirty page and journal entry of the file system,
/// so a group of messages costs one call instead of two fsyncs each. Other Unix systems: fsync
/// of each file (.NET uses F_FULLFSYNC on macOS) and of the directory, which is where a rename
/// is recorded. Windows: FlushFileBuffers per file, and renames with MOVEFILE_WRITE_THROUGH,
/// since NTFS has no directory handle to flush.
/// </remarks>
internal static class FileDurability
{
    private const int ReadOnly = 0;
    private const int MoveFileWriteThrough = 0x8;
    private const int ErrorFileNotFound = 2;

    internal static readonly bool IsLinux = RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

    private static readonly bool s_isWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

    /// <summary>Whether <see cref="SyncFileSystem"/> covers file contents and renames in one call.</summary>
    internal static bool CanSyncFileSystem => IsLinux;

    /// <summary>Linux only: writes back everything dirty on the file system holding the directory.</summary>
    internal static void SyncFileSystem(string directory) => WithDirectory(directory, "sync the file system of", fd => NativeMethods.syncfs(fd));

    /// <summary>Makes the renames done in a directory durable (fsync of the directory; nothing on Windows).</summary>
    internal static void FlushDirectory(string directory)
    {
        if (s_isWindows)
        {
            return;
        }
        WithDirectory(directory, "flush", fd => NativeMethods.fsync(fd));
    }

    /// <summary>Renames a file so that the rename is on the disk when this returns (given <see cref="FlushDirectory"/> on Unix).</summary>
    internal static void MoveDurably(string source, string destination)
    {
        if (!s_isWindows)
        {
            File.Move(source, destination);
            return;
        }
        if (!NativeMethods.MoveFileExW(source, destination, MoveFileWriteThrough))
        {
            int error = Marshal.GetLastWin32Error();
            if (error == ErrorFileNotFound)
            {
                throw new FileNotFoundException("Cannot rename '" + source + "': it does not exist.", source);
            }
            throw new IOException("Cannot rename '" + source + "' to '" + destination + "' (Windows error " + error + ").", unchecked((int)0x80070000) | error);
        }
    }

    private static void WithDirectory(string directory, string action, Func<int, int> call)
    {
        int fd = NativeMethods.open(directory, ReadOnly);
        if (fd < 0)
        {
            throw new IOException("Cannot open the spool directory '" + directory + "' to " + action + " it (errno " + Marshal.GetLastWin32Error() + ").");
        }
        try
        {
            if (call(fd) != 0)
            {
                throw new IOException("Cannot " + action + " the spool directory '" + directory + "' (errno " + Marshal.GetLastWin32Error() + ").");
            }
        }
        finally
        {
            NativeMethods.close(fd);
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        internal static extern int open([MarshalAs(UnmanagedType.LPStr)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        internal static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        internal static extern int syncfs(int fd);

        [DllImport("libc")]
        internal static extern int close(int fd);

        [DllImport("kernel32", CharSet = CharSet.Unicode, SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        internal static extern bool MoveFileExW(string existingFileName, string newFileName, int flags);
    }
}
