// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Server;

/// <summary>swaks, the Debian SMTP test client: a real peer nobody here wrote.</summary>
internal static class Swaks
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether swaks can run. Missing swaks fails the test when RELAY_REQUIRE_PEERS is 1 (CI), and
    /// otherwise says so loudly so that the caller returns without having tested anything.
    /// </summary>
    public static bool IsAvailable(ITestOutputHelper output)
    {
        if (FindExecutable() != null)
        {
            return true;
        }
        string message = "PEER MISSING: swaks is not installed (apt-get install swaks); this test did NOT run.";
        Assert.False(Environment.GetEnvironmentVariable("RELAY_REQUIRE_PEERS") == "1", message);
        output.WriteLine(message);
        Console.Error.WriteLine(message);
        return false;
    }

    /// <summary>Submits one small message over plain SMTP and returns swaks's transcript.</summary>
    public static string Submit(int port, string from, string to)
    {
        var start = new ProcessStartInfo(FindExecutable())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
        {
            "--server", "127.0.0.1", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--from", from, "--to", to, "--header", "Subject: relay server test", "--body", "Hello from swaks.",
            "--timeout", "10",
        })
        {
            start.ArgumentList.Add(argument);
        }
        using Process swaks = Process.Start(start);
        var transcript = swaks.StandardOutput.ReadToEndAsync();
        var errors = swaks.StandardError.ReadToEndAsync();
        bool exited = swaks.WaitForExit((int)s_deadline.TotalMilliseconds);
        if (!exited)
        {
            swaks.Kill();
        }
        Assert.True(exited, "swaks did not finish within " + s_deadline);
        Assert.True(swaks.ExitCode == 0, "swaks failed (" + swaks.ExitCode + "): " + transcript.Result + errors.Result);
        return transcript.Result;
    }

    private static string FindExecutable() =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, "swaks"))
            .FirstOrDefault(File.Exists);
}
