// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Net;
using RelayCore.Tests.Integration;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding.Peers;

/// <summary>
/// A real next hop for forwarding tests: Python's aiosmtpd (smtp_next_hop.py beside this file) on a
/// loopback port, recording every envelope and the exact bytes of every message it accepts.
/// </summary>
internal sealed class SmtpNextHop : IAsyncDisposable
{
    internal const string Python = "/usr/bin/python3";

    private static readonly TimeSpan s_startDeadline = TimeSpan.FromSeconds(20);

    private readonly Process _process;
    private readonly Task<string> _stderr;

    private SmtpNextHop(Process process, int port, string recordDirectory, Task<string> stderr)
    {
        _process = process;
        Port = port;
        RecordDirectory = recordDirectory;
        _stderr = stderr;
    }

    internal int Port { get; }

    internal string RecordDirectory { get; }

    internal NextHopAddress Address => NextHopAddress.Parse("127.0.0.1:" + Port);

    /// <summary>Connections accepted so far.</summary>
    internal int Connections => Events().Count(line => line.StartsWith("connect ", StringComparison.Ordinal));

    /// <summary>DATA commands left unanswered so far (<c>--stall-data</c>).</summary>
    internal int Stalls => Events().Count(line => line.StartsWith("stalled ", StringComparison.Ordinal));

    /// <summary>QUIT commands received so far.</summary>
    internal int Quits => Events().Count(line => line.StartsWith("quit ", StringComparison.Ordinal));

    /// <summary>
    /// Starts a next hop with the script's options (e.g. <c>--pipelining</c>, <c>--rcpt-reply "550 no"</c>);
    /// null when Python or aiosmtpd is missing (which fails the test under RELAY_REQUIRE_PEERS=1).
    /// </summary>
    internal static async Task<SmtpNextHop> StartAsync(ITestOutputHelper output, params string[] options)
    {
        if (!Peer.IsAvailable(Python, output) || !await HasPythonModuleAsync("aiosmtpd", "python3-aiosmtpd", output))
        {
            return null;
        }
        string record = Path.Combine(Path.GetTempPath(), "relay-nexthop-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo(Python)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(ScriptPath("smtp_next_hop.py"));
        start.ArgumentList.Add("--record");
        start.ArgumentList.Add(record);
        foreach (string option in options)
        {
            start.ArgumentList.Add(option);
        }
        var process = Process.Start(start);
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(s_startDeadline);
        string ready;
        try
        {
            ready = await process.StandardOutput.ReadLineAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new TimeoutException("The aiosmtpd next hop did not start within " + s_startDeadline.TotalSeconds + " s.");
        }
        if (ready == null || !ready.StartsWith("READY ", StringComparison.Ordinal))
        {
            await process.WaitForExitAsync(CancellationToken.None);
            throw new InvalidOperationException("The aiosmtpd next hop failed to start: " + ready + " " + await stderr);
        }
        return new SmtpNextHop(process, int.Parse(ready.Substring(6), System.Globalization.CultureInfo.InvariantCulture), record, stderr);
    }

    /// <summary>The messages accepted so far, in order.</summary>
    internal IReadOnlyList<ReceivedMessage> Messages()
    {
        if (!Directory.Exists(RecordDirectory))
        {
            return Array.Empty<ReceivedMessage>();
        }
        return Directory.GetFiles(RecordDirectory, "*.json")
            .OrderBy(path => path, StringComparer.Ordinal)
            .Select(ReceivedMessage.Read)
            .ToList();
    }

    /// <summary>Waits until a condition on the next hop holds; false at the deadline.</summary>
    internal static async Task<bool> WaitForAsync(Func<bool> condition, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > deadline)
            {
                return false;
            }
            await Task.Delay(20);
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill();
        }
        await _stderr;
        _process.Dispose();
        try
        {
            Directory.Delete(RecordDirectory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the OS temp cleaner gets the rest.
        }
    }

    private List<string> Events()
    {
        string log = Path.Combine(RecordDirectory, "connections.log");
        return File.Exists(log) ? File.ReadAllLines(log).ToList() : new List<string>();
    }

    /// <summary>
    /// Whether the system Python has a module (from a Debian package); missing, the test fails under
    /// RELAY_REQUIRE_PEERS=1 and otherwise says so loudly and should return.
    /// </summary>
    internal static async Task<bool> HasPythonModuleAsync(string module, string package, ITestOutputHelper output)
    {
        (int exitCode, string _) = await Peer.RunAsync(Python, "-c", "import " + module);
        if (exitCode == 0)
        {
            return true;
        }
        string message = "PEER MISSING: Python's " + module + " (" + package + ") is not installed; this forwarding test did not run.";
        Xunit.Assert.True(Environment.GetEnvironmentVariable("RELAY_REQUIRE_PEERS") != "1", message + " (RELAY_REQUIRE_PEERS=1)");
        output.WriteLine(message);
        return false;
    }

    /// <summary>Runs one of the Python scripts beside this file.</summary>
    internal static Task<(int ExitCode, string Output)> RunScriptAsync(string script, params string[] arguments) =>
        Peer.RunAsync(Python, new[] { ScriptPath(script) }.Concat(arguments).ToArray());

    private static string ScriptPath(string script, [CallerFilePath] string sourceFile = "") =>
        Path.Combine(Path.GetDirectoryName(sourceFile), script);

    /// <summary>One message as the next hop received it.</summary>
    internal sealed class ReceivedMessage
    {
        internal string MailFrom { get; private init; }

        internal IReadOnlyList<string> RcptTos { get; private init; }

        internal IReadOnlyList<string> MailOptions { get; private init; }

        internal int Connection { get; private init; }

        internal bool Pipelined { get; private init; }

        internal bool Chunked { get; private init; }

        internal byte[] Data { get; private init; }

        /// <summary>"pass" or "fail" when the next hop verified DKIM (<c>--dkim-txt</c>); null otherwise.</summary>
        internal string Dkim { get; private init; }

        internal static ReceivedMessage Read(string jsonPath)
        {
            using JsonDocument json = JsonDocument.Parse(File.ReadAllText(jsonPath));
            JsonElement root = json.RootElement;
            return new ReceivedMessage
            {
                MailFrom = root.GetProperty("mail_from").GetString(),
                RcptTos = root.GetProperty("rcpt_tos").EnumerateArray().Select(to => to.GetString()).ToList(),
                MailOptions = root.GetProperty("mail_options").EnumerateArray().Select(option => option.GetString()).ToList(),
                Connection = root.GetProperty("connection").GetInt32(),
                Pipelined = root.GetProperty("pipelined").GetBoolean(),
                Chunked = root.GetProperty("chunked").GetBoolean(),
                Data = File.ReadAllBytes(Path.ChangeExtension(jsonPath, ".eml")),
                Dkim = root.GetProperty("dkim").ValueKind == JsonValueKind.Null ? null : root.GetProperty("dkim").GetString(),
            };
        }
    }
}
