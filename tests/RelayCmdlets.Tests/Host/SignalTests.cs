// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Host;

/// <summary>SIGTERM, SIGINT and SIGHUP stop the running pipeline, so relay exits promptly with 143, 130 or 129.</summary>
public sealed class SignalTests
{
    private const int SigHup = 1;
    private const int SigInt = 2;
    private const int SigTerm = 15;

    /// <summary>A pipeline that would run for a minute, checking for a stop between 100 ms sleeps.</summary>
    /// <remarks>
    /// Its finally block proves the pipeline was stopped: a process simply killed by the signal would also exit with
    /// 128 + N, but would never run it.
    /// </remarks>
    private const string LongPipeline =
        "try { 'started'; foreach ($i in 1..600) { [System.Threading.Thread]::Sleep(100) }; 'finished' } " +
        "finally { $Host.UI.WriteLine('stopped cleanly') }";

    /// <summary>Generous for a loaded machine, far below the minute the pipeline would run.</summary>
    private static readonly TimeSpan s_stopDeadline = TimeSpan.FromSeconds(15);

    private readonly ITestOutputHelper _log;

    public SignalTests(ITestOutputHelper log)
    {
        _log = log;
    }

    [Theory]
    [InlineData(SigTerm, 143)]
    [InlineData(SigInt, 130)]
    [InlineData(SigHup, 129)]
    public void Signal_DuringLongPipeline_StopsItAndExitsWithSignalCode(int signal, int expectedExitCode)
    {
        if (OperatingSystem.IsWindows())
        {
            _log.WriteLine("SKIPPED LOUDLY: POSIX signals cannot be sent to a process on Windows.");
            return;
        }

        using RelayProcess relay = RelayProcess.Start([LongPipeline]);
        relay.WaitForOutputLine("started", RelayProcess.DefaultTimeout);
        var stopwatch = Stopwatch.StartNew();

        relay.Signal(signal);
        int exitCode = relay.WaitForExit(s_stopDeadline);

        Assert.Equal(expectedExitCode, exitCode);
        Assert.Equal("started\nstopped cleanly\n", relay.Output);
        Assert.Equal("", relay.Error);
        _log.WriteLine($"stopped {stopwatch.ElapsedMilliseconds} ms after signal {signal}");
    }

    [Fact]
    public void Sigterm_DuringStartRelayServerWait_StopsTheServerThroughStopProcessing()
    {
        if (OperatingSystem.IsWindows())
        {
            _log.WriteLine("SKIPPED LOUDLY: POSIX signals cannot be sent to a process on Windows.");
            return;
        }

        using TestSpool spool = TestSpool.CreateEmpty();

        // The finally block runs only if the pipeline was stopped, and by then -Wait must have stopped and
        // unregistered its server; mail kept across the stop is Server/HostWaitTests' part.
        string command = $"try {{ Start-RelayServer -Port 0 -SpoolPath '{spool.Path}' -Wait }} " +
            "finally { $Host.UI.WriteLine('servers left: ' + @(Get-RelayServer).Count) }";
        using RelayProcess relay = RelayProcess.Start([command]);
        Match endpoint = relay.WaitForOutputMatch(new Regex(@"127\.0\.0\.1:(\d+)"), RelayProcess.DefaultTimeout);
        int port = int.Parse(endpoint.Groups[1].Value, CultureInfo.InvariantCulture);

        relay.Signal(SigTerm);
        int exitCode = relay.WaitForExit(s_stopDeadline);

        Assert.True(exitCode == 143, $"exit {exitCode}\nstdout:\n{relay.Output}\nstderr:\n{relay.Error}");
        Assert.Contains("servers left: 0", relay.Output);
        Assert.Equal("", relay.Error);
        using var client = new TcpClient();
        Assert.Throws<SocketException>(() => client.Connect(IPAddress.Loopback, port));
    }
}
