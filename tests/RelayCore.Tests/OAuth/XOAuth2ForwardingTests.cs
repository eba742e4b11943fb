// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.OAuth;
using RelayCore.Spool;
using RelayCore.Tests.Forwarding;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.OAuth;

/// <summary>
/// Forwarding with XOAUTH2 end to end: the HTTPS token endpoint issues tokens, the aiosmtpd next hop accepts
/// exactly those (its token file), and ForwardingAgent gets, reuses, renews and retries them.
/// </summary>
public sealed class XOAuth2ForwardingTests : IDisposable
{
    private const string Mailbox = OAuthRig.Mailbox;
    private const string GmailUser = "scanner@gmail.test";

    private readonly ITestOutputHelper _output;
    private readonly ForwardingSpool _spool = new ForwardingSpool();
    private readonly string _directory = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "relay-xoauth2-" + Guid.NewGuid().ToString("N"))).FullName;
    private readonly OAuthRig _rig;
    private readonly ConcurrentQueue<string> _log = new ConcurrentQueue<string>();

    public XOAuth2ForwardingTests(ITestOutputHelper output)
    {
        _output = output;
        _rig = new OAuthRig(_directory);
    }

    public void Dispose()
    {
        foreach (string line in _log)
        {
            _output.WriteLine(line);
        }
        _rig.Dispose();
        _spool.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task ThousandMessages_FourConnections_OneTokenRequest()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        var provider = Microsoft365(TokenEndpoint.ClientSecret);
        await _spool.AddManyAsync(1000);

        (ForwardingSummary summary, _) = await _spool.ForwardAsync(Options(hop, provider, o => o.MaxConnections = 4));

        Assert.Equal(1000, summary.Sent);
        Assert.Equal(4, summary.Connections);
        Assert.Equal(1, _rig.Endpoint.TokenRequests);
        IReadOnlyList<JsonElement> logins = hop.Events("auth");
        Assert.Equal(4, logins.Count);
        Assert.All(logins, login => Assert.Equal((true, Mailbox), (login.GetProperty("ok").GetBoolean(), login.GetProperty("user").GetString())));
        Assert.Equal(1000, hop.Events("message").Count);
        AssertNoTokenInLog();
    }

    [Fact]
    public async Task ExpiredToken_NextRun_RenewedBeforeAuth()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        using var provider = RefreshToken(GmailUser);
        TestClock clock = TestClock.Drive(provider);
        await _spool.AddAsync(ForwardingSpool.SimpleContent("before expiry"));
        await _spool.ForwardAsync(Options(hop, provider));
        string first = Accepted().Single();
        // The hop honours expiry too: the first token is no longer accepted.
        Accept(Array.Empty<string>());
        clock.Now += TimeSpan.FromSeconds(_rig.Endpoint.ExpiresIn + 60);
        await _spool.AddAsync(ForwardingSpool.SimpleContent("after expiry"));

        (ForwardingSummary summary, _) = await _spool.ForwardAsync(Options(hop, provider));

        Assert.Equal(1, summary.Sent);
        Assert.Equal(2, _rig.Endpoint.TokenRequests);
        Assert.NotEqual(first, Accepted().Single());
        Assert.All(hop.Events("auth"), login => Assert.True(login.GetProperty("ok").GetBoolean(), hop.Output));
        Assert.Equal(2, hop.Events("message").Count);
    }

    [Fact]
    public async Task RevokedToken_HopRefusesOnce_OneRetryWithNewTokenAndMailSent()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        var provider = Microsoft365(TokenEndpoint.ClientSecret);
        await _spool.AddAsync(ForwardingSpool.SimpleContent("first"));
        await _spool.ForwardAsync(Options(hop, provider));
        Accept(Array.Empty<string>());
        await _spool.AddAsync(ForwardingSpool.SimpleContent("after revocation"));

        (ForwardingSummary summary, _) = await _spool.ForwardAsync(Options(hop, provider));

        Assert.Equal(1, summary.Sent);
        Assert.Equal(2, _rig.Endpoint.TokenRequests);
        Assert.Equal(new[] { true, false, true }, hop.Events("auth").Select(e => e.GetProperty("ok").GetBoolean()));
        Assert.Equal(2, hop.Events("message").Count);
        Assert.Empty(_spool.InState(RelayMessageState.Ready));
        Assert.Contains(_log, line => line.Contains("refused the OAuth2 token of " + Mailbox, StringComparison.Ordinal));
        AssertNoTokenInLog();
    }

    [Fact]
    public async Task RevokedToken_HopClosesAfterRefusal_RetriedOnAFreshConnection()
    {
        await using AuthNextHop hop = await StartHopAsync("--oauth-close");
        if (hop == null)
        {
            return;
        }
        var provider = Microsoft365(TokenEndpoint.ClientSecret);
        await provider.GetTokenAsync(CancellationToken.None);
        Accept(Array.Empty<string>());
        await _spool.AddManyAsync(2);

        (ForwardingSummary summary, _) = await _spool.ForwardAsync(Options(hop, provider));

        Assert.Equal((2, 1), (summary.Sent, summary.Connections));
        Assert.Equal(2, _rig.Endpoint.TokenRequests);
        Assert.Equal(new[] { false, true }, hop.Events("auth").Select(e => e.GetProperty("ok").GetBoolean()));
        Assert.Equal(2, hop.Events("connect").Count);
        Assert.Equal(2, hop.Events("message").Count);
    }

    [Fact]
    public async Task NewTokenRefusedToo_SecondFailure_MessagesDeferredNotBad()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        _rig.HopAcceptsIssuedTokens = false;
        var provider = Microsoft365(TokenEndpoint.ClientSecret);
        await _spool.AddManyAsync(3);

        (ForwardingSummary summary, List<ForwardResult> results) = await _spool.ForwardAsync(Options(hop, provider));

        Assert.Equal(3, summary.Deferred);
        Assert.Equal(2, _rig.Endpoint.TokenRequests);
        Assert.Equal(new[] { false, false }, hop.Events("auth").Select(e => e.GetProperty("ok").GetBoolean()));
        Assert.All(results, result => Assert.Equal(535, result.ReplyCode));
        Assert.Equal(3, _spool.InState(RelayMessageState.Ready).Count);
        Assert.Empty(_spool.InState(RelayMessageState.Bad));
    }

    [Fact]
    public async Task StaticToken_HopRefusesIt_DeferredWith535AndNoRenewal()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        await _spool.AddAsync(ForwardingSpool.SimpleContent("static"));

        (ForwardingSummary summary, List<ForwardResult> results) = await _spool.ForwardAsync(Options(hop, null, o =>
        {
            o.Credential = new System.Net.NetworkCredential(Mailbox, string.Empty);
            o.OAuthToken = OAuthAccount.Secure("a-static-token-the-hop-does-not-know");
        }));

        Assert.Equal(1, summary.Deferred);
        ForwardResult result = Assert.Single(results);
        Assert.Equal(535, result.ReplyCode);
        Assert.Contains("A static token cannot be renewed", result.ReplyText, StringComparison.Ordinal);
        JsonElement login = Assert.Single(hop.Events("auth"));
        Assert.Equal((Mailbox, false), (login.GetProperty("user").GetString(), login.GetProperty("ok").GetBoolean()));
        Assert.Equal(0, _rig.Endpoint.TokenRequests);
        Assert.Single(_spool.InState(RelayMessageState.Ready));
        Assert.DoesNotContain(_log, line => line.Contains("a-static-token-the-hop-does-not-know", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BadClientSecret_InvalidClient_EveryMessageDeferredWithEndpointText()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        var provider = Microsoft365("not-the-secret");
        List<RelayMessage> added = await _spool.AddManyAsync(5);

        (ForwardingSummary summary, List<ForwardResult> results) = await _spool.ForwardAsync(Options(hop, provider));

        Assert.Equal((0, 5, 0), (summary.Sent, summary.Deferred, summary.Failed));
        Assert.All(results, result =>
        {
            Assert.Equal(ForwardOutcome.Deferred, result.Outcome);
            Assert.Contains("invalid_client: AADSTS7000215: Invalid client secret provided.", result.ReplyText, StringComparison.Ordinal);
            Assert.Contains("The client secret is wrong or expired: create a new one in the app registration", result.ReplyText, StringComparison.Ordinal);
        });
        Assert.Equal(added.Select(m => m.Id).OrderBy(id => id, StringComparer.Ordinal), _spool.InState(RelayMessageState.Ready).Select(m => m.Id).OrderBy(id => id, StringComparer.Ordinal));
        Assert.Empty(_spool.InState(RelayMessageState.Bad));
        Assert.Empty(hop.Events("auth"));
        Assert.DoesNotContain(_log, line => line.Contains("not-the-secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SelectorAccounts_TwoDevices_SendAsTheirOwnMailboxes()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        using var printer = RefreshToken(Mailbox);
        using var scanner = RefreshToken(GmailUser);
        await _spool.AddAsync(ForwardingSpool.SimpleContent("from the printer"));
        await _spool.AddAsync(ForwardingSpool.SimpleContent("from the scanner"), edit: envelope => envelope.ClientAccountSelector = "scanner");
        using var accounts = new OAuthAccountSet(printer, new Dictionary<string, IAccessTokenProvider> { ["scanner"] = scanner });

        (ForwardingSummary summary, _) = await _spool.ForwardAsync(Options(hop, null, o => o.OAuthAccounts = accounts));

        Assert.Equal(2, summary.Sent);
        Assert.Equal(new[] { Mailbox, GmailUser }, hop.Events("message").Select(e => e.GetProperty("auth_user").GetString()).OrderBy(u => u, StringComparer.Ordinal));
        Assert.Equal(2, _rig.Endpoint.TokenRequests);
    }

    private Task<AuthNextHop> StartHopAsync(params string[] extraArguments) => _rig.StartHopAsync(_output, extraArguments);

    /// <summary>Forwarding options for the hop (plain TCP on loopback) with the provider as the default OAuth2 account, logging at Debug.</summary>
    private ForwardingOptions Options(AuthNextHop hop, IAccessTokenProvider provider, Action<ForwardingOptions> edit = null) =>
        ForwardingSpool.Options(hop.Address, o =>
        {
            o.Tls = ClientTlsMode.None;
            o.OAuthAccounts = provider == null ? null : OAuthRig.Accounts(provider);
            o.LogLevel = RelayLogLevel.Debug;
            o.Log = (level, text) => _log.Enqueue(text);
            edit?.Invoke(o);
        });

    private Microsoft365TokenProvider Microsoft365(string secret) => _rig.Microsoft365(secret);

    private RefreshTokenProvider RefreshToken(string user) => _rig.RefreshToken(user);

    private string[] Accepted() => _rig.Accepted();

    private void Accept(IEnumerable<string> tokens) => _rig.Accept(tokens);

    /// <summary>Tokens travel only inside AUTH, which the transcript masks: none may appear in the Debug log.</summary>
    private void AssertNoTokenInLog()
    {
        Assert.Contains(_log, line => line.Contains("AUTH XOAUTH2", StringComparison.Ordinal) || line.Contains("with XOAUTH2", StringComparison.Ordinal));
        _rig.AssertNoTokenIn(_log, Mailbox);
    }
}
