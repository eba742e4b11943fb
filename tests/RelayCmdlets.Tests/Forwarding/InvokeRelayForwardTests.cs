// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Forwarding;

/// <summary>Invoke-RelayForward in a real runspace, forwarding to a real next hop (Python's aiosmtpd).</summary>
public sealed class InvokeRelayForwardTests : IClassFixture<ModuleRunspace>
{
    private const string SubmitThree =
        "$null = Submit-RelayMessage -SpoolPath $spool -From alice@example.org -To one@example.com -Subject one -Body one;" +
        "$null = Submit-RelayMessage -SpoolPath $spool -From alice@example.org -To two@example.net -Subject two -Body two;" +
        "$null = Submit-RelayMessage -SpoolPath $spool -From alice@example.org -To three@example.com -Subject three -Body three;";

    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(30);

    private readonly ModuleRunspace _shell;
    private readonly ITestOutputHelper _output;

    public InvokeRelayForwardTests(ModuleRunspace shell, ITestOutputHelper output)
    {
        _shell = shell;
        _output = output;
    }

    [Fact]
    public async Task PipelineFilter_WhereToLikeADomain_ForwardsOnlyThoseMessages()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }

        PipelineResult result = _shell.Invoke(
            SubmitThree + "Get-RelaySpool -SpoolPath $spool | Where-Object To -like '*@example.com' | Invoke-RelayForward -To $hop",
            ("spool", spool.Path),
            ("hop", HopOf(hop)));

        AssertNoErrors(result);
        Assert.Equal(new[] { "one@example.com", "three@example.com" }, hop.Messages().SelectMany(message => message.RcptTos).OrderBy(to => to));
        Assert.Equal(new[] { "two@example.net" }, _shell.Invoke("Get-RelaySpool -SpoolPath $spool | ForEach-Object { $_.To }", ("spool", spool.Path)).OutputOf<string>());
    }

    [Fact]
    public async Task PassThru_WholeSpool_WritesOneSentResultPerMessageOverOneConnection()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }

        PipelineResult result = _shell.Invoke(
            SubmitThree + "Invoke-RelayForward -To $hop -SpoolPath $spool -PassThru | ForEach-Object { '{0} {1} {2}' -f $_.Outcome, $_.ReplyCode, ($_.AcceptedRecipients -join ',') }",
            ("spool", spool.Path),
            ("hop", HopOf(hop)));

        AssertNoErrors(result);
        Assert.Equal(
            new[] { "Sent 250 one@example.com", "Sent 250 three@example.com", "Sent 250 two@example.net" },
            result.OutputOf<string>().OrderBy(line => line, StringComparer.Ordinal));
        Assert.Equal(1, hop.Connections);
        Assert.Empty(Directory.GetFiles(spool.Path));
    }

    [Fact]
    public async Task ThrottleLimit_Four_SharesTheSpoolOverAtMostFourConnections()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }

        PipelineResult result = _shell.Invoke(
            "1..20 | ForEach-Object { $null = Submit-RelayMessage -SpoolPath $spool -From a@example.org -To \"to$_@example.com\" -Subject $_ -Body $_ };" +
            "Invoke-RelayForward -To $hop -SpoolPath $spool -ThrottleLimit 4",
            ("spool", spool.Path),
            ("hop", HopOf(hop)));

        AssertNoErrors(result);
        Assert.Equal(20, hop.Messages().Count);
        Assert.InRange(hop.Connections, 2, 4);
    }

    [Fact]
    public async Task Verbose_WholeSpool_WritesEachMessageSentAndTheSummary()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }

        PipelineResult result = _shell.Invoke(SubmitThree + "Invoke-RelayForward -To $hop -SpoolPath $spool -Verbose", ("spool", spool.Path), ("hop", HopOf(hop)));

        AssertNoErrors(result);
        Assert.Equal(3, result.Verbose.Count(line => line.Contains("emailrelay.", StringComparison.Ordinal) && line.Contains(" Sent ", StringComparison.Ordinal)));
        Assert.Contains(result.Verbose, line => line.StartsWith("3 sent, 0 failed, 0 deferred,", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RecipientRefused_OneOfThree_FailsItAfterSendingTheOthersWithATerminatingError()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output, "--rcpt-reply", "550 5.1.1 no such user", "--reject-rcpt", "two@example.net");
        if (hop == null)
        {
            return;
        }

        PipelineResult result = _shell.Invoke(SubmitThree + "Invoke-RelayForward -To $hop -SpoolPath $spool", ("spool", spool.Path), ("hop", HopOf(hop)));

        Assert.Equal(
            new[] { "RelayMessageFailed,RelayCmdlets.InvokeRelayForwardCommand", "ForwardingFailed,RelayCmdlets.InvokeRelayForwardCommand" },
            result.ErrorIds);
        Assert.Equal(ErrorCategory.InvalidOperation, result.Errors[0].CategoryInfo.Category);
        Assert.Equal(2, hop.Messages().Count);
        Assert.Single(Directory.GetFiles(spool.Path, "*.envelope.bad"));
    }

    [Fact]
    public void NextHopDown_EveryMessage_IsDeferredAsANonTerminatingErrorAndStaysReady()
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke(
            SubmitThree + "Invoke-RelayForward -To $hop -SpoolPath $spool; 'after'",
            ("spool", spool.Path),
            ("hop", "127.0.0.1:" + ClosedPort.Find()));

        Assert.True(result.Errors.Count == 3, string.Join(Environment.NewLine, result.Errors.Select(error => error.FullyQualifiedErrorId + ": " + error.Exception)));
        Assert.Equal(Enumerable.Repeat("RelayMessageDeferred,RelayCmdlets.InvokeRelayForwardCommand", 3), result.ErrorIds);
        Assert.All(result.Errors, error => Assert.Equal(ErrorCategory.ConnectionError, error.CategoryInfo.Category));
        Assert.Equal(new[] { "after" }, result.OutputOf<string>());
        Assert.Equal(3, Directory.GetFiles(spool.Path, "*.envelope").Length);
    }

    [Fact]
    public void NextHopDown_ErrorActionStop_StopsAtTheFirstDeferralAndLeavesNothingBusy()
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke(
            SubmitThree + "try { Invoke-RelayForward -To $hop -SpoolPath $spool -ErrorAction Stop } catch { 'stopped: ' + $_.FullyQualifiedErrorId }",
            ("spool", spool.Path),
            ("hop", "127.0.0.1:" + ClosedPort.Find()));

        Assert.Equal(new[] { "stopped: RelayMessageDeferred,RelayCmdlets.InvokeRelayForwardCommand" }, result.OutputOf<string>());
        Assert.Empty(Directory.GetFiles(spool.Path, "*.busy"));
        Assert.Equal(3, Directory.GetFiles(spool.Path, "*.envelope").Length);
    }

    [Fact]
    public void WhatIf_WholeSpool_ListsEachMessageWithItsNextHopAndTouchesNothing()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        string port = ClosedPort.Find().ToString(System.Globalization.CultureInfo.InvariantCulture);

        PipelineResult result = _shell.Invoke(SubmitThree + "Invoke-RelayForward -To $hop -SpoolPath $spool -WhatIf", ("spool", spool.Path), ("hop", "127.0.0.1:" + port));

        AssertNoErrors(result);
        string[] whatIf = result.HostLines.Where(line => line.StartsWith("What if:", StringComparison.Ordinal)).ToArray();
        Assert.Equal(3, whatIf.Length);
        Assert.All(whatIf, line => Assert.Matches(@"""emailrelay\.\S+ from <alice@example\.org> to \S+@example\.(com|net) via 127\.0\.0\.1:" + port + @"""", line));
        Assert.Equal(3, Directory.GetFiles(spool.Path, "*.envelope").Length);
    }

    [Theory]
    [InlineData("nonsense")]
    [InlineData("host:99999")]
    [InlineData("::1:25")]
    public void To_NotANextHop_IsAParameterBindingErrorSayingWhy(string to)
    {
        PipelineResult result = _shell.Invoke("Invoke-RelayForward -To $to -SpoolPath $spool", ("to", to), ("spool", Path.GetTempPath()));

        Assert.Equal(new[] { "CannotConvertArgumentNoMessage,RelayCmdlets.InvokeRelayForwardCommand" }, result.ErrorIds);
        Assert.Contains(to, result.Errors[0].Exception.Message);
    }

    [Theory]
    [InlineData("-ThrottleLimit 0")]
    [InlineData("-ConnectTimeout 30")]
    [InlineData("-AuthMechanism DIGEST-MD5")]
    [InlineData("-PollInterval 00:00:00")]
    public void ForwardingParameter_OutOfRange_IsAValidationError(string arguments)
    {
        PipelineResult result = _shell.Invoke("Invoke-RelayForward -To 127.0.0.1:25 -SpoolPath $spool " + arguments, ("spool", Path.GetTempPath()));

        Assert.Equal(new[] { "ParameterArgumentValidationError,RelayCmdlets.InvokeRelayForwardCommand" }, result.ErrorIds);
    }

    [Fact]
    public void PopServer_WithoutPopBeforeSmtp_IsInvalidForwardingParameters()
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke("Invoke-RelayForward -To 127.0.0.1:25 -SpoolPath $spool -PopServer 127.0.0.1:110", ("spool", spool.Path));

        Assert.Equal(new[] { "InvalidForwardingParameters,RelayCmdlets.InvokeRelayForwardCommand" }, result.ErrorIds);
        Assert.Equal(ErrorCategory.InvalidArgument, result.Errors[0].CategoryInfo.Category);
    }

    [Fact]
    public void ClientSecretsPath_Missing_IsSecretsFileNotFound()
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke("Invoke-RelayForward -To 127.0.0.1:25 -SpoolPath $spool -SecretsPath ./no-such.auth", ("spool", spool.Path));

        Assert.Equal(new[] { "SecretsFileNotFound,RelayCmdlets.InvokeRelayForwardCommand" }, result.ErrorIds);
    }

    [Fact]
    public void ClientSecretsPath_Malformed_IsSecretsFileInvalidBeforeAnythingIsClaimed()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        File.WriteAllText(spool.File("client.auth"), "client bogus\n");

        PipelineResult result = _shell.Invoke(
            SubmitThree + "Invoke-RelayForward -To 127.0.0.1:25 -SpoolPath $spool -ClientSecretsPath $secrets",
            ("spool", spool.Path),
            ("secrets", spool.File("client.auth")));

        Assert.Equal(new[] { "SecretsFileInvalid,RelayCmdlets.InvokeRelayForwardCommand" }, result.ErrorIds);
        Assert.Equal(spool.File("client.auth"), result.Errors[0].TargetObject);
        Assert.Equal(3, Directory.GetFiles(spool.Path, "*.envelope").Length);
    }

    [Fact]
    public void OAuthToken_WithoutAUser_IsInvalidForwardingOptions()
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke("Invoke-RelayForward -To 127.0.0.1:25 -SpoolPath $spool -OAuthToken $token", ("spool", spool.Path), ("token", new System.Net.NetworkCredential("x", "token").SecurePassword));

        Assert.Equal(new[] { "InvalidForwardingOptions,RelayCmdlets.InvokeRelayForwardCommand" }, result.ErrorIds);
        Assert.Equal(ErrorCategory.InvalidArgument, result.Errors[0].CategoryInfo.Category);
    }

    [Fact]
    public async Task Continuous_StopProcessing_ForwardsWhatArrivesUntilStoppedAndLeavesNothingBusy()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        await using SmtpNextHop hop = await SmtpNextHop.StartAsync(_output);
        if (hop == null)
        {
            return;
        }
        using var forwarder = new ModuleRunspace();
        using PowerShell shell = forwarder.CreatePowerShell(
            "Invoke-RelayForward -To $hop -SpoolPath $spool -Continuous -PollInterval 00:00:00.200", ("spool", spool.Path), ("hop", HopOf(hop)));

        IAsyncResult running = shell.BeginInvoke();
        _shell.Invoke("Submit-RelayMessage -SpoolPath $spool -From a@example.org -To first@example.com -Subject 1 -Body 1", ("spool", spool.Path));
        bool firstArrived = await SmtpNextHop.WaitForAsync(() => hop.Messages().Count == 1, s_deadline);
        _shell.Invoke("Submit-RelayMessage -SpoolPath $spool -From a@example.org -To second@example.com -Subject 2 -Body 2", ("spool", spool.Path));
        bool secondArrived = await SmtpNextHop.WaitForAsync(() => hop.Messages().Count == 2, s_deadline);
        Task stopped = Task.Factory.FromAsync(shell.BeginStop(null, null), shell.EndStop);
        bool stoppedInTime = await Task.WhenAny(stopped, Task.Delay(s_deadline)) == stopped;

        Assert.True(firstArrived, "the first message never reached the next hop");
        Assert.True(secondArrived, "the message submitted while polling never reached the next hop");
        Assert.True(stoppedInTime, "Invoke-RelayForward -Continuous did not stop");
        Assert.True(running.IsCompleted);
        Assert.Empty(Directory.GetFiles(spool.Path, "*.busy"));
    }

    private static void AssertNoErrors(PipelineResult result) =>
        Assert.True(result.Errors.Count == 0, string.Join(Environment.NewLine, result.Errors.Select(error => error.FullyQualifiedErrorId + ": " + error.Exception)));

    private static string HopOf(SmtpNextHop hop) => "127.0.0.1:" + hop.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
