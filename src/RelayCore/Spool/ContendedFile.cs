// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;

namespace RelayCore.Spool;

/// <summary>Renames and deletes of spool files that other processes may hold open or change.</summary>
/// <remarks>
/// A rename is how processes sharing a spool take turns, so losing the race (the source is
/// gone) is an answer, not an error. On Windows an open handle without delete sharing blocks
/// both operations for as long as it is held; such holders (scanners, backups) let go within
/// moments, so the operation is retried for a short, bounded time before giving up.
/// </remarks>
internal static class ContendedFile
{
    private const int Attempts = 20;
    private const int PauseMilliseconds = 25;
    private const int ErrorSharingViolation = 32;
    private const int ErrorLockViolation = 33;

    private static readonly bool s_isWindows = RuntimeInformation.IsOSPlatform(OSPlatform.Windows);

    /// <summary>Renames a file; false when the source no longer exists (another process moved it first).</summary>
    /// <exception cref="SpoolFileInUseException">The file stayed open in another process.</exception>
    internal static bool TryMove(string source, string destination) => TryMove(source, destination, durable: false);

    /// <summary>Renames a file, on Windows durably (write-through); false when the source no longer exists.</summary>
    /// <exception cref="SpoolFileInUseException">The file stayed open in another process.</exception>
    internal static bool TryMove(string source, string destination, bool durable)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                FileDurability.Move(source, destination, writeThrough: durable);
                return true;
            }
            catch (FileNotFoundException)
            {
                return false;
            }
            catch (Exception error) when (IsHeldOpen(error))
            {
                Pause(attempt, source, error);
            }
        }
    }

    /// <summary>Deletes a file if it exists.</summary>
    /// <exception cref="SpoolFileInUseException">The file stayed open in another process.</exception>
    internal static void Delete(string path)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                File.Delete(path);
                return;
            }
            catch (Exception error) when (IsHeldOpen(error))
            {
                Pause(attempt, path, error);
            }
        }
    }

    private static bool IsHeldOpen(Exception error)
    {
        if (!s_isWindows)
        {
            return false;
        }
        if (error is UnauthorizedAccessException)
        {
            return true;
        }
        int code = error.HResult & 0xFFFF;
        return error is IOException && (code == ErrorSharingViolation || code == ErrorLockViolation);
    }

    private static void Pause(int attempt, string path, Exception error)
    {
        if (attempt >= Attempts)
        {
            throw new SpoolFileInUseException(path, error);
        }
        // Synchronous on purpose: only Windows reaches here, rarely, for at most half a second.
        Thread.Sleep(PauseMilliseconds);
    }
}
