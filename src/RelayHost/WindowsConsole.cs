// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Runtime.InteropServices;

namespace RelayHost;

/// <summary>Turns on ANSI escape sequence processing in a Windows console, as pwsh does at start.</summary>
/// <remarks>
/// Windows consoles interpret colour sequences only once a process asks for it; without this, the formatter's colours
/// would print as raw escape codes in conhost.
/// </remarks>
internal static class WindowsConsole
{
    private const int StandardOutputHandle = -11;
    private const int StandardErrorHandle = -12;
    private const uint EnableVirtualTerminalProcessing = 0x0004;

    /// <summary>Enables escape sequences on standard output.</summary>
    /// <returns>Whether standard output now interprets them; false on other systems or when it is not a console.</returns>
    public static bool TryEnableOnOutput() => TryEnable(StandardOutputHandle);

    /// <summary>Enables escape sequences on standard error.</summary>
    /// <returns>Whether standard error now interprets them; false on other systems or when it is not a console.</returns>
    public static bool TryEnableOnError() => TryEnable(StandardErrorHandle);

    private static bool TryEnable(int standardHandle)
    {
        if (!OperatingSystem.IsWindows())
        {
            return false;
        }

        IntPtr handle = NativeMethods.GetStdHandle(standardHandle);
        return NativeMethods.GetConsoleMode(handle, out uint mode)
            && ((mode & EnableVirtualTerminalProcessing) != 0 || NativeMethods.SetConsoleMode(handle, mode | EnableVirtualTerminalProcessing));
    }

    private static class NativeMethods
    {
        [DllImport("kernel32.dll", SetLastError = true)]
        public static extern IntPtr GetStdHandle(int standardHandle);

        [DllImport("kernel32.dll", SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        public static extern bool GetConsoleMode(IntPtr handle, out uint mode);

        [DllImport("kernel32.dll", SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        public static extern bool SetConsoleMode(IntPtr handle, uint mode);
    }
}
