// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace RelayCore.Spool;

/// <summary>The C library and Windows calls the spool makes where .NET has no equivalent, or a costlier one.</summary>
internal static class NativeMethods
{
    [DllImport("libc", SetLastError = true)]
    internal static extern int open([MarshalAs(UnmanagedType.LPStr)] string path, int flags);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    internal static extern int open([MarshalAs(UnmanagedType.LPStr)] string path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    internal static extern IntPtr write(SafeFileHandle fd, ref byte buffer, IntPtr count);

    [DllImport("libc", SetLastError = true)]
    internal static extern int fsync(int fd);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    internal static extern int fsync(SafeFileHandle fd);

    [DllImport("libc", SetLastError = true)]
    internal static extern int syncfs(int fd);

    [DllImport("libc")]
    internal static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    internal static extern int renameat2(int oldDirectory, [MarshalAs(UnmanagedType.LPStr)] string oldPath, int newDirectory, [MarshalAs(UnmanagedType.LPStr)] string newPath, uint flags);

    [DllImport("kernel32", CharSet = CharSet.Unicode, SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    internal static extern bool MoveFileExW(string existingFileName, string newFileName, int flags);
}
