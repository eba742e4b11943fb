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
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Xunit;
using Xunit.Abstractions;

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
    private Task _readers = Task.CompletedTask;

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

    /// <summary>The module manifest the build copied beside relay.dll.</summary>
    public static string DefaultModulePath => Path.Combine(Path.GetDirectoryName(HostPath), "Relay", "Relay.psd1");

    /// <summary>Everything written to standard output so far.</summary>
    public string Output => Read(_output);

    /// <summary>Everything written to standard error so far.</summary>
    public string Error => Read(_error);

    /// <summary>Runs relay to completion.</summary>
    public static RelayResult Run(params string[] arguments) => Run(arguments, standardInput: "");

    /// <summary>Runs relay to completion with the given standard input and environment changes (null removes a variable).</summary>
    public static RelayResult Run(IEnumerable<string> arguments, string standardInput, IDictionary<string, string> environment = null)
    {
        using RelayProcess relay = Start(arguments, standardInput, environment);
        int exitCode = relay.WaitForExit(DefaultTimeout);

        // Windows ends lines with CRLF; the assertions are about content.
        return new RelayResult(exitCode, relay.Output.Replace("\r\n", "\n"), relay.Error.Replace("\r\n", "\n"));
    }

    /// <summary>Starts relay; standard input gets <paramref name="standardInput"/> and is then closed.</summary>
    public static RelayProcess Start(IEnumerable<string> arguments, string standardInput = "", IDictionary<string, string> environment = null)
    {
        RelayProcess relay = Start(DotNetPath(), [HostPath, .. arguments], environment);
        relay.WriteInput(standardInput);
        relay._process.StandardInput.Close();
        return relay;
    }

    /// <summary>Finds util-linux's <c>script</c>, which makes pseudo-terminals; fails or skips loudly when it is missing.</summary>
    /// <returns>Its path, or null when the test should return (skipped, reason logged).</returns>
    public static string FindTerminalMaker(ITestOutputHelper log)
    {
        const string ScriptPath = "/usr/bin/script";
        if (File.Exists(ScriptPath))
        {
            return ScriptPath;
        }

        Assert.True(Environment.GetEnvironmentVariable("RELAY_REQUIRE_PEERS") != "1", $"{ScriptPath} (util-linux) is required but missing.");
        log.WriteLine($"SKIPPED LOUDLY: {ScriptPath} (util-linux) is missing, so no pseudo-terminal can be made.");
        return null;
    }

    /// <summary>Starts relay on a pseudo-terminal made by util-linux's <c>script</c>, so that it sees a person's console.</summary>
    /// <remarks>Standard input stays open: <see cref="WriteInput"/> types into the terminal.</remarks>
    public static RelayProcess StartInTerminal(string scriptPath, IEnumerable<string> arguments, IDictionary<string, string> environment = null)
    {
        string[] words = [DotNetPath(), HostPath, .. arguments];
        string command = string.Join(" ", words.Select(w => "'" + w.Replace("'", "'\\''") + "'"));
        return Start(scriptPath, ["--quiet", "--return", "--command", command, "/dev/null"], environment);
    }

    /// <summary>Writes to the process's standard input.</summary>
    public void WriteInput(string text)
    {
        _process.StandardInput.Write(text);
        _process.StandardInput.Flush();
    }

    /// <summary>Waits for the process to exit and its output to be read.</summary>
    /// <returns>The exit code.</returns>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout) || !_readers.Wait(timeout))
        {
            _process.Kill(entireProcessTree: true);
            Assert.Fail($"relay did not exit within {timeout.TotalSeconds} s.\nstdout:\n{Output}\nstderr:\n{Error}");
        }

        return _process.ExitCode;
    }

    /// <summary>Waits until a line of standard output equals <paramref name="line"/>.</summary>
    public void WaitForOutputLine(string line, TimeSpan timeout) =>
        WaitForOutput(output => output.Split('\n').Any(l => l.TrimEnd('\r') == line), $"the line '{line}'", timeout);

    /// <summary>Waits until standard output contains <paramref name="text"/>, even before its line ends.</summary>
    public void WaitForOutputText(string text, TimeSpan timeout) =>
        WaitForOutput(output => output.Contains(text, StringComparison.Ordinal), $"'{text}'", timeout);

    /// <summary>Waits until standard output matches <paramref name="pattern"/>.</summary>
    /// <returns>The first match.</returns>
    public Match WaitForOutputMatch(Regex pattern, TimeSpan timeout)
    {
        WaitForOutput(pattern.IsMatch, $"a match for /{pattern}/", timeout);
        return pattern.Match(Output);
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

    private static RelayProcess Start(string fileName, IEnumerable<string> arguments, IDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // build.ps1 sets this for Pester; a test that wants it passes it explicitly.
        info.Environment.Remove("RELAY_MODULE_PATH");
        foreach (KeyValuePair<string, string> variable in environment ?? new Dictionary<string, string>())
        {
            if (variable.Value == null)
            {
                info.Environment.Remove(variable.Key);
            }
            else
            {
                info.Environment[variable.Key] = variable.Value;
            }
        }

        var relay = new RelayProcess(new Process { StartInfo = info });
        relay._process.Start();
        relay._readers = Task.WhenAll(relay.CaptureAsync(relay._process.StandardOutput, relay._output), relay.CaptureAsync(relay._process.StandardError, relay._error));
        return relay;
    }

    /// <summary>Reads characters as they come, not lines, so a prompt waiting on its line is seen.</summary>
    private async Task CaptureAsync(StreamReader reader, StringBuilder target)
    {
        char[] buffer = new char[4096];
        int count;
        while ((count = await reader.ReadAsync(buffer, CancellationToken.None)) > 0)
        {
            lock (_lock)
            {
                target.Append(buffer, 0, count);
                Monitor.PulseAll(_lock);
            }
        }
    }

    private void WaitForOutput(Func<string, bool> condition, string description, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        lock (_lock)
        {
            while (!condition(_output.ToString()))
            {
                TimeSpan remaining = deadline - DateTime.UtcNow;
                if (remaining <= TimeSpan.Zero || _process.HasExited)
                {
                    Assert.Fail($"relay never printed {description} (exited: {_process.HasExited}).\nstdout:\n{_output}\nstderr:\n{_error}");
                }

                // Woken by each read; the timeout also rechecks whether the process has exited.
                Monitor.Wait(_lock, remaining < TimeSpan.FromSeconds(1) ? remaining : TimeSpan.FromSeconds(1));
            }
        }
    }

    private string Read(StringBuilder text)
    {
        lock (_lock)
        {
            return text.ToString();
        }
    }

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

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);
    }
}
