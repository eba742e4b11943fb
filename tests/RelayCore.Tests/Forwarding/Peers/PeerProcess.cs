// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using RelayCore.Tests.Hosting;

namespace RelayCore.Tests.Forwarding.Peers;

/// <summary>A long-running peer daemon started by a test (aiosmtpd, dovecot, danted): its output kept, killed by its PID when disposed.</summary>
internal sealed class PeerProcess : IAsyncDisposable
{
    private const int SignalTerminate = 15;

    private readonly Process _process;

    private PeerProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    internal string Name { get; }

    internal ConcurrentQueue<string> Output { get; } = new ConcurrentQueue<string>();

    internal bool HasExited => _process.HasExited;

    internal static PeerProcess Start(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
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
        var process = new Process { StartInfo = start };
        var peer = new PeerProcess(process, System.IO.Path.GetFileName(program));
        process.OutputDataReceived += (_, e) => { if (e.Data != null) { peer.Output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data != null) { peer.Output.Enqueue(e.Data); } };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    /// <summary>Waits for an output line that starts with <paramref name="prefix"/> and returns it; fails with the output if the peer exits or the deadline passes.</summary>
    internal async Task<string> WaitForLineAsync(string prefix)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            string line = Output.FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            if (line != null)
            {
                return line;
            }
            if (_process.HasExited || clock.Elapsed > TestServer.Deadline)
            {
                throw new InvalidOperationException(Name + " never printed '" + prefix + "' (" + (_process.HasExited ? "exited " + _process.ExitCode : "timed out") + "): " + string.Join(" | ", Output));
            }
            await Task.Delay(20);
        }
    }

    /// <summary>Asks the daemon to stop (SIGTERM, so a master such as dovecot's stops and reaps its children), and kills it if it has not within a few seconds.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited && !OperatingSystem.IsWindows() && Terminate(_process.Id, SignalTerminate) == 0)
        {
            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (TimeoutException)
            {
                // Killed below.
            }
        }
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        await _process.WaitForExitAsync().WaitAsync(TestServer.Deadline);
        _process.Dispose();
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Terminate(int pid, int signal);
}
