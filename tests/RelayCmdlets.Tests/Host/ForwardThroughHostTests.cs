// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Host;

/// <summary>Invoke-RelayForward as a scheduled task runs it: <c>relay -Command</c>, judged by its exit code.</summary>
public sealed class ForwardThroughHostTests
{
    private readonly ITestOutputHelper _output;

    public ForwardThroughHostTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task ScheduledForward_EveryMessageSent_ExitsZero()
    {
        using var folder = new TempFolder();
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }

        RelayResult result = RelayProcess.Run(SubmitTwoThenForward(folder, hop));

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(2, hop.Messages().Count);
        Assert.Empty(Directory.GetFiles(Path.Combine(folder.Path, "spool")));
    }

    [Fact]
    public async Task ScheduledForward_OneMessageRefused_ExitsOneAfterSendingTheOther()
    {
        using var folder = new TempFolder();
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--rcpt-reply", "550 5.1.1 no such user", "--reject-rcpt", "first@example.net");
        if (hop == null)
        {
            return;
        }

        RelayResult result = RelayProcess.Run(SubmitTwoThenForward(folder, hop));

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("refused for good", result.Error);
        Assert.Equal(new[] { "second@example.com" }, hop.Messages().SelectMany(message => message.RcptTos));
        Assert.Single(Directory.GetFiles(Path.Combine(folder.Path, "spool"), "*.envelope.bad"));
    }

    private static string SubmitTwoThenForward(TempFolder folder, SmtpNextHop hop)
    {
        string spool = "'" + Path.Combine(folder.Path, "spool") + "'";
        return "$null = Submit-RelayMessage -SpoolPath " + spool + " -From a@example.org -To first@example.net -Subject 1 -Body 1; " +
            "$null = Submit-RelayMessage -SpoolPath " + spool + " -From a@example.org -To second@example.com -Subject 2 -Body 2; " +
            "Invoke-RelayForward -To 127.0.0.1:" + hop.Port.ToString(CultureInfo.InvariantCulture) + " -SpoolPath " + spool;
    }
}
