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
    private const int MoveFileReplaceExisting = 0x1;
    private const int MoveFileWriteThrough = 0x8;
    private const int ErrorFileNotFound = 2;
    private const int AtCurrentDirectory = -100;
    private const uint RenameNoReplace = 1;
    private const int ErrnoNoEntry = 2;
    private const int ErrnoInvalid = 22;
    private const int ErrnoNotImplemented = 38;

    internal static readonly bool IsLinux = RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

    private static readonly bool s_isWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

    private static volatile bool s_canRenameNoReplace = true;

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

    /// <summary>
    /// Renames a file, failing if the destination exists; on Windows with write-through when
    /// asked, so the rename is on the disk when this returns (elsewhere the caller flushes the
    /// directory).
    /// </summary>
    /// <exception cref="FileNotFoundException">The source does not exist.</exception>
    /// <exception cref="IOException">The destination exists, or the rename failed.</exception>
    internal static void Move(string source, string destination, bool writeThrough)
    {
        if (IsLinux && s_canRenameNoReplace)
        {
            MoveOnLinux(source, destination);
        }
        else if (s_isWindows && writeThrough)
        {
            MoveWriteThrough(source, destination);
        }
        else
        {
            File.Move(source, destination);
        }
    }

    /// <summary>
    /// One renameat2(RENAME_NOREPLACE) call: atomic where .NET's File.Move checks the destination
    /// with lstat first (three system calls, and a window between check and rename).
    /// </summary>
    private static void MoveOnLinux(string source, string destination)
    {
        if (NativeMethods.renameat2(AtCurrentDirectory, source, AtCurrentDirectory, destination, RenameNoReplace) == 0)
        {
            return;
        }
        int errno = Marshal.GetLastWin32Error();
        switch (errno)
        {
            case ErrnoNoEntry:
                throw new FileNotFoundException("Cannot rename '" + source + "': it does not exist.", source);
            case ErrnoInvalid:
            case ErrnoNotImplemented:
                // A file system (or kernel) without RENAME_NOREPLACE: .NET's way from now on.
                s_canRenameNoReplace = false;
                File.Move(source, destination);
                return;
            default:
                throw new IOException("Cannot rename '" + source + "' to '" + destination + "' (errno " + errno + ").");
        }
    }

    /// <summary>
    /// Renames a file over an existing one in one step (rename(2); on Windows MoveFileEx with
    /// replace and write-through, which an open handle with delete sharing does not block).
    /// </summary>
    /// <exception cref="IOException">The rename failed.</exception>
    internal static void Replace(string source, string destination)
    {
        if (!s_isWindows)
        {
            // File.Replace is one rename(2) on Unix.
            File.Replace(source, destination, null);
            return;
        }
        if (!NativeMethods.MoveFileExW(source, destination, MoveFileReplaceExisting | MoveFileWriteThrough))
        {
            int error = Marshal.GetLastWin32Error();
            throw new IOException("Cannot rename '" + source + "' over '" + destination + "' (Windows error " + error + ").", unchecked((int)0x80070000) | error);
        }
    }

    private static void MoveWriteThrough(string source, string destination)
    {
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
}
