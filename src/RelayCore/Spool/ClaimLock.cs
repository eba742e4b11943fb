// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Runtime.InteropServices;

namespace RelayCore.Spool;

/// <summary>
/// The operating-system lock a claimer holds on its <c>.envelope.busy</c> file for as long as it holds
/// the claim, so that recovery in any process can tell a dead claimer's file from a live one's at once.
/// </summary>
/// <remarks>
/// The claimer keeps the envelope open with read, write and delete sharing: on Unix .NET takes a shared
/// flock for that, on Windows the open handle itself is the lock; neither stops readers, and the
/// claimer can still rename and delete the file (Windows needs the delete sharing for that). Recovery
/// opens the file without sharing: an exclusive flock on Unix, an exclusive open on Windows. That succeeds
/// only when no process has it open, which for a Relay claim means its claimer is gone (the OS drops a
/// killed process's locks). E-MailRelay claims by rename alone, so a free lock proves nothing on its
/// files: a Relay claim is recognised by the fraction of a second its claim time is stamped with, and
/// other claims keep the age rule.
/// </remarks>
internal sealed class ClaimLock : IDisposable
{
    /// <summary>The sub-second part (in 100 ns ticks) of the write time Relay stamps on a claim.</summary>
    private const long StampTicks = 4_242_424;

    private readonly FileStream _handle;

    private ClaimLock(FileStream handle) => _handle = handle;

    /// <summary>What a recovery probe learned about a <c>.busy</c> envelope.</summary>
    internal enum Probe
    {
        /// <summary>The file is gone (settled meanwhile).</summary>
        Gone,

        /// <summary>A live process holds the file open.</summary>
        Held,

        /// <summary>A Relay claim no process holds: its claimer died.</summary>
        Abandoned,

        /// <summary>Not a Relay claim, or locks cannot be judged here: only its age can tell.</summary>
        Unknown,
    }

    /// <summary>Whether this platform's file opens take the locks (.NET can be told to skip them on Unix).</summary>
    internal static bool CanJudge { get; } = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) || !IsFileLockingDisabled();

    /// <summary>The claim time to stamp on an envelope: now, with Relay's sub-second mark.</summary>
    internal static DateTime StampNow()
    {
        long ticks = DateTime.UtcNow.Ticks;
        return new DateTime(ticks - (ticks % TimeSpan.TicksPerSecond) + StampTicks, DateTimeKind.Utc);
    }

    /// <summary>Opens the envelope (still under its ready name) and holds it; null when it is gone.</summary>
    internal static ClaimLock TryAcquire(string envelopePath)
    {
        try
        {
            return new ClaimLock(new FileStream(envelopePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1));
        }
        catch (FileNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Stamps the claim time (<see cref="StampNow"/>) on the held file, before its rename.</summary>
    /// <returns>False when the file is gone.</returns>
    internal bool TryStamp()
    {
        try
        {
#if NET
            // Through the open handle: no path lookups (a removed file then fails the rename instead).
            File.SetLastWriteTimeUtc(_handle.SafeFileHandle, StampNow());
#else
            File.SetLastWriteTimeUtc(_handle.Name, StampNow());
#endif
            return true;
        }
        catch (FileNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Reads the envelope through the held handle, from its start.</summary>
    /// <exception cref="InvalidDataException">The file is not an E-MailRelay envelope.</exception>
    internal Envelope ReadEnvelope()
    {
        _handle.Position = 0;
        return Envelope.Read(_handle);
    }

    /// <summary>Judges a <c>.busy</c> envelope this process does not hold.</summary>
    internal static Probe Test(string busyPath)
    {
        DateTime stamped;
        try
        {
            stamped = File.GetLastWriteTimeUtc(busyPath);
        }
        catch (IOException)
        {
            return Probe.Gone;
        }
        if (!CanJudge || stamped.Ticks % TimeSpan.TicksPerSecond != StampTicks)
        {
            return File.Exists(busyPath) ? Probe.Unknown : Probe.Gone;
        }
        try
        {
            using (new FileStream(busyPath, FileMode.Open, FileAccess.Read, FileShare.None, 1))
            {
                return Probe.Abandoned;
            }
        }
        catch (FileNotFoundException)
        {
            return Probe.Gone;
        }
        catch (IOException)
        {
            return Probe.Held;
        }
        catch (UnauthorizedAccessException)
        {
            return Probe.Unknown;
        }
    }

    /// <summary>Lets go of the claim's lock (after its last rename or delete).</summary>
    public void Dispose() => _handle.Dispose();

    private static bool IsFileLockingDisabled()
    {
        if (AppContext.TryGetSwitch("System.IO.DisableFileLocking", out bool disabled) && disabled)
        {
            return true;
        }
        string variable = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_IO_DISABLEFILELOCKING");
        return variable == "1" || string.Equals(variable, "true", StringComparison.OrdinalIgnoreCase);
    }
}
