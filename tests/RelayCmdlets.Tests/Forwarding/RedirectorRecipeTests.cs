// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Net;
using System.Text.Json;
using System.Threading.Tasks;
using RelayCmdlets.Tests.Host;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Forwarding;

/// <summary>
/// The Email Redirector's recipe as help and about_Relay give it, against real peers: an aiosmtpd next hop
/// that relays only for addresses that logged in to dovecot's POP3 server within the last 30 seconds.
/// </summary>
public sealed class RedirectorRecipeTests : IClassFixture<ModuleRunspace>
{
    private readonly ModuleRunspace _shell;
    private readonly ITestOutputHelper _output;

    public RedirectorRecipeTests(ModuleRunspace shell, ITestOutputHelper output)
    {
        _shell = shell;
        _output = output;
    }

    [Fact]
    public async Task PopBeforeSmtp_HopRelaysOnlyAfterAPopLogin_RefusedWithoutAndSentWith()
    {
        if (!DovecotPop3.IsAvailable(_output) || !AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var folder = new TempFolder();
        if (!OperatingSystem.IsWindows())
        {
            // dovecot's mail processes run as nobody and must reach their maildirs below this folder.
            File.SetUnixFileMode(folder.Path, (UnixFileMode)0x1ED);
        }
        string spool = Path.Combine(folder.Path, "spool");
        await using DovecotPop3 dovecot = await DovecotPop3.StartAsync(folder.Path, new[] { "jsmith:s3cret" });
        await using AuthNextHop hop = await AuthNextHop.StartAsync(folder.Path, "--pop-log", dovecot.LogPath, "--pop-window", "30");
        var variables = new (string, object)[]
        {
            ("spool", spool),
            ("hop", "127.0.0.1:" + hop.Port.ToString(CultureInfo.InvariantCulture)),
            ("pop", "127.0.0.1:" + dovecot.Port.ToString(CultureInfo.InvariantCulture)),
            ("isp", new PSCredential("jsmith", new NetworkCredential("jsmith", "s3cret").SecurePassword)),
        };
        _shell.Invoke("$null = Submit-RelayMessage -SpoolPath $spool -From office@example.com -To friend@example.net -Subject hi -Body hi", variables);

        PipelineResult without = _shell.Invoke("Invoke-RelayForward -To $hop -SpoolPath $spool -ClientTls None -EnvelopeFrom jsmith@isp.example", variables);
        _shell.Invoke("Reset-RelayBadMessage -SpoolPath $spool", variables);
        PipelineResult with = _shell.Invoke(
            "Invoke-RelayForward -To $hop -SpoolPath $spool -ClientTls None -EnvelopeFrom jsmith@isp.example " +
            "-PopBeforeSmtp -PopServer $pop -PopCredential $isp -PopDelay 00:00:00.500 -PassThru | ForEach-Object { '' + $_.Outcome }",
            variables);

        Assert.Equal(new[] { "RelayMessageFailed,RelayCmdlets.InvokeRelayForwardCommand", "ForwardingFailed,RelayCmdlets.InvokeRelayForwardCommand" }, without.ErrorIds);
        Assert.Contains("554", without.Errors[0].Exception.Message);
        Assert.True(with.Errors.Count == 0, string.Join("; ", with.Errors));
        Assert.Equal(new[] { "Sent" }, with.OutputOf<string>());
        JsonElement sent = Assert.Single(hop.Events("message"));
        Assert.Equal("jsmith@isp.example", sent.GetProperty("mail_from").GetString());
        Assert.True(Assert.Single(dovecot.Logins()).Time + 0.5 <= sent.GetProperty("time").GetDouble(), "the SMTP transaction did not wait -PopDelay after the POP login");
        Assert.Empty(Directory.GetFiles(spool));
    }
}
