// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Integration;

/// <summary>A real client program nobody here wrote (swaks, curl, Python), run with a deadline.</summary>
internal static class Peer
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Whether a peer program exists. Missing: with RELAY_REQUIRE_PEERS=1 the test fails; otherwise
    /// it says so loudly in the test output and the caller returns.
    /// </summary>
    internal static bool IsAvailable(string program, ITestOutputHelper output)
    {
        if (Find(program) != null)
        {
            return true;
        }
        string message = "PEER MISSING: '" + program + "' is not installed; this integration test did not run. Install it (see .ci/run).";
        Assert.True(Environment.GetEnvironmentVariable("RELAY_REQUIRE_PEERS") != "1", message + " (RELAY_REQUIRE_PEERS=1)");
        output.WriteLine(message);
        return false;
    }

    /// <summary>Runs a program (no shell) and returns its exit code and output; killed past the deadline.</summary>
    internal static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(Find(program) ?? program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start);
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(s_timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("'" + program + "' did not finish within " + s_timeout.TotalSeconds + " s.");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string Find(string program)
    {
        if (Path.IsPathRooted(program))
        {
            return File.Exists(program) ? program : null;
        }
        foreach (string directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(directory, program);
            if (directory.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
