// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.IO;
using System.Text.RegularExpressions;
using System.Threading;
using RelayCmdlets.Tests.Host;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Server;

/// <summary>
/// The daemon as an administrator runs it: <c>relay Start-RelayServer ... -Wait</c>, mail from a real
/// client, then SIGTERM, as a service manager stops it.
/// </summary>
public sealed class HostWaitTests
{
    private const int SigTerm = 15;
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(15);
    private readonly ITestOutputHelper _output;

    public HostWaitTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void HostWait_SigtermAfterSwaksSubmits_ExitsPromptlyWithTheMessageCommitted()
    {
        if (OperatingSystem.IsWindows())
        {
            _output.WriteLine("SKIPPED LOUDLY: POSIX signals cannot be sent to a process on Windows.");
            return;
        }
        if (!Swaks.IsAvailable(_output))
        {
            return;
        }
        using var folder = new TempFolder();
        string spool = Path.Combine(folder.Path, "spool");
        using RelayProcess relay = RelayProcess.Start(
            ["Start-RelayServer", "-Name", ServerRunspace.UniqueName(), "-ListenAddress", "127.0.0.1", "-Port", "0", "-SpoolPath", spool, "-Wait", "-Verbose"]);
        int port = WaitForListeningPort(relay);
        Swaks.Submit(port, "alice@example.com", "bob@example.net");

        relay.Signal(SigTerm);
        int exitCode = relay.WaitForExit(s_deadline);

        Assert.Equal(143, exitCode);
        Assert.Single(Directory.GetFiles(spool, "emailrelay.*.envelope"));
        Assert.Single(Directory.GetFiles(spool, "emailrelay.*.content"));
        Assert.Empty(Directory.GetFiles(spool, "*.new"));
    }

    // The server's log is verbose output, which the host writes to standard error.
    private static int WaitForListeningPort(RelayProcess relay)
    {
        var listening = new Regex(@"listening on 127\.0\.0\.1:(\d+)");
        Match match = null;
        bool found = SpinWait.SpinUntil(() => (match = listening.Match(relay.Error)).Success, RelayProcess.DefaultTimeout);
        Assert.True(found, "relay never said where it listens.\nstdout:\n" + relay.Output + "\nstderr:\n" + relay.Error);
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
