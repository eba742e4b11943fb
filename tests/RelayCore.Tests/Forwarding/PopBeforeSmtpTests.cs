// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Tests.Forwarding.Peers;
using RelayCore.Tests.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

/// <summary>
/// The Email Redirector's POP-before-SMTP against a real dovecot (the acceptance through the forwarding
/// agent is in RedirectorTests). Order and delay are proved from dovecot's log and the next hop's record,
/// both in Unix microseconds.
/// </summary>
public sealed class PopBeforeSmtpTests
{
    private static readonly TimeSpan s_delay = TimeSpan.FromSeconds(1);

    private readonly ITestOutputHelper _output;

    public PopBeforeSmtpTests(ITestOutputHelper output) => _output = output;

    [Theory]
    [InlineData(false, "PLAIN")]
    [InlineData(true, "APOP")]
    public async Task Connect_PopBeforeSmtp_PopLoginAndQuitPrecedeSmtpByTheDelay(bool useApop, string dovecotMethod)
    {
        await WithPeersAsync(async (context, dovecot, hop) =>
        {
            context.Options.PopBeforeSmtp = PopOptions(dovecot.Port, useApop);

            using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

            var login = Assert.Single(dovecot.Logins());
            Assert.Equal(("alice", dovecotMethod, "127.0.0.1"), (login.User, login.Method, login.Address));
            // dovecot names USER/PASS and SASL PLAIN alike: the client's own transcript tells them apart.
            string[] commands = context.LogLines.Where(l => l.Contains("pop-before-smtp") && l.Contains(": C: ")).Select(l => l.Substring(l.IndexOf(": C: ") + 5).Split(' ')[0]).ToArray();
            Assert.Equal(useApop ? new[] { "CAPA", "APOP", "CAPA", "STAT", "QUIT" } : new[] { "CAPA", "USER", "PASS", "CAPA", "STAT", "QUIT" }, commands);
            double quit = Assert.Single(dovecot.Logouts());
            double smtpConnect = Assert.Single(hop.Events("connect")).GetProperty("time").GetDouble();
            Assert.True(login.Time < quit && quit < smtpConnect, $"login {login.Time}, quit {quit}, SMTP connect {smtpConnect}");
            Assert.True(smtpConnect - quit >= s_delay.TotalSeconds, $"only {smtpConnect - quit:0.000} s between the POP3 QUIT and the SMTP connection");
        });
    }

    [Fact]
    public async Task Connect_PopBeforeSmtp_LogShowsLoginStatQuitAndTheDelay()
    {
        await WithPeersAsync(async (context, dovecot, hop) =>
        {
            context.Options.PopBeforeSmtp = PopOptions(dovecot.Port, false);

            using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

            string[] lines = context.LogLines.Where(l => l.Contains(" Information: pop-before-smtp 127.0.0.1:" + dovecot.Port + ": ")).ToArray();
            Assert.True(lines.Length == 4, context.Log);
            Assert.Contains("logged in as alice with USER/PASS at ", lines[0]);
            Assert.Contains("STAT: 0 message(s)", lines[1]);
            Assert.Contains("QUIT at ", lines[2]);
            Assert.Contains("waiting 1 s before connecting to 127.0.0.1:" + hop.Port, lines[2]);
            Assert.Contains("delay over at ", lines[3]);
            Assert.True(Stamp(lines[3]) - Stamp(lines[2]) >= s_delay, context.Log);
        });
    }

    [Fact]
    public async Task Connect_PopBeforeSmtpWrongPassword_FailsAtPopWithoutSmtp()
    {
        await WithPeersAsync(async (context, dovecot, hop) =>
        {
            context.Options.PopBeforeSmtp = PopOptions(dovecot.Port, false);
            context.Options.PopBeforeSmtp.Credential = new NetworkCredential("alice", "wrong");

            var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token));

            Assert.Equal(ConnectionStep.Pop, error.Step);
            Assert.False(error.IsTransient);
            Assert.Empty(hop.Events("connect"));
            Assert.DoesNotContain("wrong", context.Log);
        });
    }

    [Fact]
    public async Task Connect_ApopChosenButNotOffered_FailsAtPopWithoutFallingBackToUserPass()
    {
        if (!DovecotPop3.IsAvailable(_output) || !AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using DovecotPop3 dovecot = await DovecotPop3.StartAsync(context.Directory, new[] { "alice:s3cret" }, offerApop: false);
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        context.Options.PopBeforeSmtp = PopOptions(dovecot.Port, true);

        var error = await Assert.ThrowsAsync<ForwardingConnectionException>(() => new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token));

        Assert.Equal((ConnectionStep.Pop, false), (error.Step, error.IsTransient));
        Assert.Contains("does not offer APOP", error.Message);
        Assert.DoesNotContain(context.LogLines, l => l.Contains("C: USER") || l.Contains("C: PASS") || l.Contains("C: AUTH"));
        Assert.Empty(dovecot.Logins());
    }

    [Fact]
    public async Task Connect_CancelledDuringTheDelay_StopsPromptlyWithoutSmtp()
    {
        await WithPeersAsync(async (context, dovecot, hop) =>
        {
            context.Options.PopBeforeSmtp = PopOptions(dovecot.Port, false);
            context.Options.PopBeforeSmtp.Delay = TimeSpan.FromSeconds(30);
            using var cancel = new CancellationTokenSource();
            var connector = new NextHopConnector(context.Options);
            var clock = Stopwatch.StartNew();

            Task<RelaySmtpClient> connecting = connector.ConnectAsync(hop.Address, null, cancel.Token);
            await TestServer.WaitUntilAsync(() => context.Logged("waiting 30 s"), "the POP-before-SMTP delay to start");
            cancel.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connecting);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
            Assert.Empty(hop.Events("connect"));
        });
    }

    [Theory]
    [InlineData(ClientTlsMode.StartTls)]
    [InlineData(ClientTlsMode.Implicit)]
    public async Task Connect_PopOverTls_LogsInSecured(ClientTlsMode mode)
    {
        if (!DovecotPop3.IsAvailable(_output) || !AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        TestCertificate certificate = TestCertificate.Create(context.Directory);
        await using DovecotPop3 dovecot = await DovecotPop3.StartAsync(context.Directory, new[] { "alice:s3cret" }, certificate);
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory);
        context.Options.Tls = ClientTlsMode.None;
        context.Options.CaFilePath = certificate.CertificatePemPath;
        context.Options.PopBeforeSmtp = PopOptions(mode == ClientTlsMode.Implicit ? dovecot.TlsPort : dovecot.Port, false);
        context.Options.PopBeforeSmtp.Tls = mode;

        using RelaySmtpClient client = await new NextHopConnector(context.Options).ConnectAsync(hop.Address, null, context.Token);

        Assert.Single(dovecot.Logins());
        Assert.Contains("TLS", dovecot.Log);
        Assert.Contains(context.LogLines, l => l.Contains(mode == ClientTlsMode.StartTls ? "C: STLS" : "logged in as alice"));
    }

    private static PopBeforeSmtpOptions PopOptions(int port, bool useApop) => new PopBeforeSmtpOptions
    {
        Server = NextHopAddress.Parse("127.0.0.1:" + port),
        Credential = new NetworkCredential("alice", "s3cret"),
        UseApop = useApop,
        Tls = ClientTlsMode.None,
        Delay = s_delay,
    };

    private static TimeSpan Stamp(string logLine) => TimeSpan.Parse(logLine.Substring(0, 12), System.Globalization.CultureInfo.InvariantCulture);

    private async Task WithPeersAsync(Func<ForwardingTestContext, DovecotPop3, AuthNextHop, Task> test, Func<DovecotPop3, string[]> hopArguments = null)
    {
        if (!DovecotPop3.IsAvailable(_output) || !AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using DovecotPop3 dovecot = await DovecotPop3.StartAsync(context.Directory, new[] { "alice:s3cret" });
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory, hopArguments?.Invoke(dovecot) ?? Array.Empty<string>());
        context.Options.Tls = ClientTlsMode.None;
        await test(context, dovecot, hop);
    }
}
