// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Runtime.InteropServices;
using RelayCore.Spool;
using Xunit;

namespace RelayCore.Tests.Spool;

public sealed class SpoolDirectoryDefaultPathTests
{
    private const string SystemSpool = "/var/spool/relay";

    [Fact]
    public void DefaultPath_OnThisPlatform_IsTheSystemSpoolWhenWritableElseTheProfileSpool()
    {
        string expected = ExpectedDefaultPath();

        string actual = SpoolDirectory.DefaultPath;

        Assert.Equal(expected, actual);
    }

    [Fact]
    public void DefaultPath_Asked_CreatesNoDirectory()
    {
        string expected = ExpectedDefaultPath();
        bool existed = Directory.Exists(expected);

        _ = SpoolDirectory.DefaultPath;

        Assert.Equal(existed, Directory.Exists(expected));
    }

    private static string ExpectedDefaultPath()
    {
        if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
        {
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Relay", "spool");
        }
        bool writable = Directory.Exists(SystemSpool) ? CanCreateIn(SystemSpool) : Directory.Exists("/var/spool") && CanCreateIn("/var/spool");
        return writable ? SystemSpool : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "relay", "spool");
    }

    private static bool CanCreateIn(string folder)
    {
        string probe = Path.Combine(folder, "relay-test-probe-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            return true;
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            return false;
        }
    }
}
