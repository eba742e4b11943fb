// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding;

/// <summary>
/// The Email Redirector's job end to end, spool to next hop through the ForwardingAgent: an ISP whose
/// smarthost (aiosmtpd) relays only for an address that logged in to its POP3 server (dovecot) lately,
/// and one account with one envelope sender for everything.
/// </summary>
public sealed class RedirectorTests
{
    private const string OfficeSender = "office@isp.example";

    private readonly ITestOutputHelper _output;

    public RedirectorTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Forward_WithoutPopBeforeSmtp_RefusedByTheIspAndNothingRelayed()
    {
        await WithIspAsync(async (context, dovecot, hop) =>
        {
            using var spool = new ForwardingSpool();
            await spool.AddAsync(ForwardingSpool.SimpleContent("no pop"));

            List<ForwardResult> results = await ForwardAsync(context.Options, spool);

            ForwardResult result = Assert.Single(results);
            Assert.NotEqual(ForwardOutcome.Sent, result.Outcome);
            Assert.Equal(554, result.ReplyCode);
            Assert.Single(hop.Events("refused"));
            Assert.Empty(hop.Events("message"));
            Assert.Empty(dovecot.Logins());
        });
    }

    [Fact]
    public async Task Forward_WithPopBeforeSmtp_EveryMessageRelayedAfterTheLoginAndTheDelay()
    {
        await WithIspAsync(async (context, dovecot, hop) =>
        {
            using var spool = new ForwardingSpool();
            await spool.AddManyAsync(3);
            context.Options.PopBeforeSmtp = new PopBeforeSmtpOptions
            {
                Server = NextHopAddress.Parse("127.0.0.1:" + dovecot.Port),
                Credential = new System.Net.NetworkCredential("alice", "s3cret"),
                Delay = TimeSpan.FromSeconds(1),
            };

            List<ForwardResult> results = await ForwardAsync(context.Options, spool);

            Assert.All(results, r => Assert.Equal(ForwardOutcome.Sent, r.Outcome));
            Assert.Equal(3, results.Count);
            Assert.Equal(0, spool.FileCount);
            var login = Assert.Single(dovecot.Logins());
            double smtpConnect = Assert.Single(hop.Events("connect")).GetProperty("time").GetDouble();
            Assert.True(smtpConnect - Assert.Single(dovecot.Logouts()) >= 1.0, "the SMTP connection came less than the delay after the POP3 QUIT");
            IReadOnlyList<JsonElement> messages = hop.Events("message");
            Assert.Equal(3, messages.Count);
            Assert.All(messages, m => Assert.True(m.GetProperty("time").GetDouble() > login.Time));
            Assert.Contains(context.LogLines, l => l.Contains("QUIT at ") && l.Contains("waiting 1 s before connecting to 127.0.0.1:" + hop.Port));
            Assert.Contains(context.LogLines, l => l.Contains("delay over at "));
        });
    }

    [Fact]
    public async Task Forward_OneAccountMode_AuthenticatesAsTheIspUserAndSendsFromTheOneSender()
    {
        await WithIspAsync(
            async (context, dovecot, hop) =>
            {
                using var spool = new ForwardingSpool();
                await spool.AddAsync(ForwardingSpool.SimpleContent("first"), edit: e => e.From = "bob@office.lan");
                await spool.AddAsync(ForwardingSpool.SimpleContent("second"), edit: e => e.From = "carol@office.lan");
                context.Options.ClientAccount = "plain:YWxpY2U=:czNjcmV0";
                context.Options.AuthMechanisms.Add("PLAIN");
                context.Options.EnvelopeFrom = OfficeSender;
                context.Options.PopBeforeSmtp = new PopBeforeSmtpOptions
                {
                    Server = NextHopAddress.Parse("127.0.0.1:" + dovecot.Port),
                    Delay = TimeSpan.FromMilliseconds(200),
                };

                List<ForwardResult> results = await ForwardAsync(context.Options, spool);

                Assert.All(results, r => Assert.Equal(ForwardOutcome.Sent, r.Outcome));
                JsonElement auth = Assert.Single(hop.Events("auth"));
                Assert.Equal(("PLAIN", "alice"), (auth.GetProperty("mechanism").GetString(), auth.GetProperty("user").GetString()));
                Assert.Equal(new[] { OfficeSender, OfficeSender }, hop.Events("message").Select(m => m.GetProperty("mail_from").GetString()));
                Assert.All(hop.Events("message"), m => Assert.Equal("alice", m.GetProperty("auth_user").GetString()));
                Assert.Equal("alice", Assert.Single(dovecot.Logins()).User);
            },
            "--account", "alice:s3cret", "--mechanisms", "PLAIN");
    }

    private static async Task<List<ForwardResult>> ForwardAsync(ForwardingOptions options, ForwardingSpool spool)
    {
        var results = new List<ForwardResult>();
        await using var agent = new ForwardingAgent(options);
        await agent.ForwardAsync(spool.Spool, null, results.Add, System.Threading.CancellationToken.None);
        return results;
    }

    /// <summary>The ISP: dovecot with the account alice:s3cret, and a smarthost that relays only after a POP login from the sender's address within 30 s.</summary>
    private async Task WithIspAsync(Func<ForwardingTestContext, DovecotPop3, AuthNextHop, Task> test, params string[] hopArguments)
    {
        if (!DovecotPop3.IsAvailable(_output) || !AuthNextHop.IsAvailable(_output))
        {
            return;
        }
        using var context = new ForwardingTestContext();
        await using DovecotPop3 dovecot = await DovecotPop3.StartAsync(context.Directory, new[] { "alice:s3cret" });
        await using AuthNextHop hop = await AuthNextHop.StartAsync(context.Directory, new[] { "--pop-log", dovecot.LogPath, "--pop-window", "30" }.Concat(hopArguments).ToArray());
        context.Options.NextHop = hop.Address;
        context.Options.Tls = ClientTlsMode.None;
        context.Options.IdleTimeout = TimeSpan.Zero;
        await test(context, dovecot, hop);
    }
}
