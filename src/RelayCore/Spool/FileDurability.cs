// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Runtime.InteropServices;

namespace RelayCore.Spool;

/// <summary>Makes renames durable: fsync of a directory, where the platform has one.</summary>
/// <remarks>
/// On Linux and macOS a rename reaches the disk only when its directory is fsync'd. Windows has
/// no directory handle to flush: NTFS journals the rename itself, and file contents are flushed
/// with FlushFileBuffers through <see cref="FileStream.Flush(bool)"/>.
/// </remarks>
internal static class FileDurability
{
    private const int ReadOnly = 0;

    internal static void FlushDirectory(string directory)
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return;
        }
        int fd = NativeMethods.open(directory, ReadOnly);
        if (fd < 0)
        {
            throw new IOException("Cannot open the spool directory '" + directory + "' to flush it (errno " + Marshal.GetLastWin32Error() + ").");
        }
        try
        {
            if (NativeMethods.fsync(fd) != 0)
            {
                throw new IOException("Cannot flush the spool directory '" + directory + "' (errno " + Marshal.GetLastWin32Error() + ").");
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

        [DllImport("libc")]
        internal static extern int close(int fd);
    }
}
