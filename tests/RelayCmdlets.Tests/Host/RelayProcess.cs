// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Xunit;

namespace RelayCmdlets.Tests.Host;

/// <summary>The built <c>relay</c> executable running as a child process, with its output captured.</summary>
internal sealed class RelayProcess : IDisposable
{
    /// <summary>Long enough for a cold start of the engine on a busy two-core machine; a hang still fails.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly StringBuilder _output = new StringBuilder();
    private readonly StringBuilder _error = new StringBuilder();
    private readonly object _lock = new object();

    private RelayProcess(Process process)
    {
        _process = process;
    }

    /// <summary>The path of relay.dll, recorded by the test project's build.</summary>
    public static string HostPath
    {
        get
        {
            string path = typeof(RelayProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "RelayHostPath").Value;
            Assert.True(File.Exists(path), $"the relay host was not built at '{path}'.");
            return path;
        }
    }

    /// <summary>Everything written to standard output so far.</summary>
    public string Output
    {
        get
        {
            lock (_lock)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Everything written to standard error so far.</summary>
    public string Error
    {
        get
        {
            lock (_lock)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Runs relay to completion.</summary>
    public static RelayResult Run(params string[] arguments) => Run(arguments, standardInput: "");

    /// <summary>Runs relay to completion with the given standard input and environment changes.</summary>
    public static RelayResult Run(IEnumerable<string> arguments, string standardInput, IDictionary<string, string> environment = null)
    {
        using RelayProcess relay = Start(arguments, standardInput, environment);
        int exitCode = relay.WaitForExit(DefaultTimeout);
        return new RelayResult(exitCode, relay.Output, relay.Error);
    }

    /// <summary>Starts relay; standard input gets <paramref name="standardInput"/> and is then closed.</summary>
    public static RelayProcess Start(IEnumerable<string> arguments, string standardInput = "", IDictionary<string, string> environment = null)
    {
        var info = new ProcessStartInfo(DotNetPath())
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        info.ArgumentList.Add(HostPath);
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // build.ps1 sets this for Pester; each test decides for itself.
        info.Environment.Remove("RELAY_MODULE_PATH");
        foreach (KeyValuePair<string, string> variable in environment ?? new Dictionary<string, string>())
        {
            info.Environment[variable.Key] = variable.Value;
        }

        var process = new Process { StartInfo = info };
        var relay = new RelayProcess(process);
        process.OutputDataReceived += (_, e) => relay.Append(relay._output, e.Data);
        process.ErrorDataReceived += (_, e) => relay.Append(relay._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Write(standardInput);
        process.StandardInput.Close();
        return relay;
    }

    /// <summary>Waits for the process to exit.</summary>
    /// <returns>The exit code.</returns>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"relay did not exit within {timeout.TotalSeconds} s.\nstdout:\n{Output}\nstderr:\n{Error}");
        }

        // The timed wait can return before the output readers drain; this one waits for them.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>Waits until a line of standard output equals <paramref name="line"/>.</summary>
    public void WaitForOutputLine(string line, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        lock (_lock)
        {
            while (!HasLine(_output, line))
            {
                TimeSpan remaining = deadline - DateTime.UtcNow;
                if (remaining <= TimeSpan.Zero || _process.HasExited)
                {
                    Assert.Fail($"relay never printed '{line}' (exited: {_process.HasExited}).\nstdout:\n{_output}\nstderr:\n{_error}");
                }

                System.Threading.Monitor.Wait(_lock, remaining);
            }
        }
    }

    /// <summary>Sends a POSIX signal to the process.</summary>
    public void Signal(int signal)
    {
        Assert.Equal(0, NativeMethods.Kill(_process.Id, signal));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static bool HasLine(StringBuilder text, string line) =>
        text.ToString().Split('\n').Any(l => l.TrimEnd('\r') == line);

    /// <summary>The dotnet executable running these tests, so the host runs on the same runtime.</summary>
    private static string DotNetPath()
    {
        string hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
        {
            return hostPath;
        }

        string processPath = Environment.ProcessPath;
        if (processPath != null && Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            return processPath;
        }

        return "dotnet";
    }

    private void Append(StringBuilder target, string line)
    {
        if (line == null)
        {
            return;
        }

        lock (_lock)
        {
            target.Append(line).Append('\n');
            System.Threading.Monitor.PulseAll(_lock);
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}
