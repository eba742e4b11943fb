// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using RelayCore.Net;

namespace RelayCore.Tests.Hosting;

/// <summary>
/// Postfix's smtp-sink as a next hop on a loopback port, dumping every message it accepts to its own file;
/// extra arguments make it refuse (e.g. <c>-f data -B "550 5.7.1 ..."</c>). Killed by its PID on dispose.
/// </summary>
internal sealed class SmtpSinkNextHop : IAsyncDisposable
{
    internal const string Program = "/usr/sbin/smtp-sink";

    private readonly Process _process;
    private readonly string _dumpDirectory;

    private SmtpSinkNextHop(Process process, string dumpDirectory, int port)
    {
        _process = process;
        _dumpDirectory = dumpDirectory;
        Address = NextHopAddress.Parse("127.0.0.1:" + port);
    }

    internal NextHopAddress Address { get; }

    /// <summary>A loopback address where nothing listens: a dead next hop.</summary>
    internal static NextHopAddress DeadAddress() => NextHopAddress.Parse("127.0.0.1:" + FreePort());

    /// <summary>Starts smtp-sink in <paramref name="directory"/> and waits until it accepts connections.</summary>
    internal static async Task<SmtpSinkNextHop> StartAsync(string directory, params string[] arguments)
    {
        string dumps = Path.Combine(directory, "next-hop-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dumps);
        if (!OperatingSystem.IsWindows())
        {
            // smtp-sink run by root drops to "nobody" before writing its dumps.
            File.SetUnixFileMode(dumps, (UnixFileMode)0x1FF);
        }
        int port = FreePort();
        var start = new ProcessStartInfo(Program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Environment.UserName == "root")
        {
            start.ArgumentList.Add("-u");
            start.ArgumentList.Add("nobody");
        }
        start.ArgumentList.Add("-d");
        start.ArgumentList.Add(Path.Combine(dumps, "message-"));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        start.ArgumentList.Add("127.0.0.1:" + port);
        start.ArgumentList.Add("64");
        var sink = new SmtpSinkNextHop(Process.Start(start), dumps, port);
        sink._process.OutputDataReceived += (_, _) => { };
        sink._process.ErrorDataReceived += (_, _) => { };
        sink._process.BeginOutputReadLine();
        sink._process.BeginErrorReadLine();
        await TestServer.WaitUntilAsync(() => !sink._process.HasExited && sink.IsListening(), "smtp-sink listening on port " + port);
        return sink;
    }

    /// <summary>The messages received so far, each as smtp-sink dumped it (its X- lines, then the content).</summary>
    internal IReadOnlyList<string> Messages() =>
        Directory.GetFiles(_dumpDirectory).OrderBy(File.GetLastWriteTimeUtc).Select(File.ReadAllText).ToList();

    internal Task WaitForMessagesAsync(int count) =>
        TestServer.WaitUntilAsync(() => Directory.GetFiles(_dumpDirectory).Length >= count, count + " message(s) at the next hop");

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    private bool IsListening()
    {
        using var client = new TcpClient();
        try
        {
            client.Connect(IPAddress.Loopback, Address.Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
