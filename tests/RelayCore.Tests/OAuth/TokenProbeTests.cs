// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.OAuth;
using RelayCore.Tests.Forwarding;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.OAuth;

/// <summary>
/// Test-RelayConnection's token step (ConnectionProbe) against the HTTPS token endpoint and the aiosmtpd
/// XOAUTH2 next hop: the provider, the token's claims or the endpoint's error with what to fix, the
/// XOAUTH2 outcome with the next hop's decoded error, and never the token itself.
/// </summary>
public sealed class TokenProbeTests : IDisposable
{
    private const string Mailbox = OAuthRig.Mailbox;

    private readonly ITestOutputHelper _output;
    private readonly ForwardingTestContext _context = new ForwardingTestContext();
    private readonly OAuthRig _rig;

    public TokenProbeTests(ITestOutputHelper output)
    {
        _output = output;
        _rig = new OAuthRig(_context.Directory);
    }

    public void Dispose()
    {
        _output.WriteLine(_context.Log);
        _rig.Dispose();
        _context.Dispose();
    }

    [Fact]
    public async Task Probe_Microsoft365Account_ReportsTheTokenItsSendAsAppRoleAndTheXOAuth2Acceptance()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        var provider = _rig.Microsoft365(TokenEndpoint.ClientSecret);
        DateTimeOffset before = DateTimeOffset.UtcNow;

        ConnectionProbeResult result = await ProbeAsync(hop, provider);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(
            new[] { "Pop Skipped", "Connect Succeeded", "Greeting Succeeded", "Ehlo Succeeded", "Token Succeeded", "Auth Succeeded", "Tls Skipped" },
            result.Steps.Select(s => s.Step + " " + s.Outcome));
        ConnectionProbeToken oauth = result.OAuth;
        Assert.Equal(provider.Description, oauth.Provider);
        Assert.True(oauth.Acquired);
        Assert.Equal(Mailbox, oauth.UserName);
        Assert.InRange(oauth.ExpiresOn.Value, before.AddSeconds(3590), DateTimeOffset.UtcNow.AddSeconds(3610));
        Assert.True(oauth.IsJwt);
        Assert.Equal(new[] { "SMTP.SendAsApp" }, oauth.Roles);
        Assert.True(oauth.IsMicrosoft365);
        Assert.True(oauth.HasSendAsApp);
        Assert.Empty(oauth.Warnings);
        Assert.Equal((235, 0), (oauth.AuthReplyCode, oauth.Refused));
        ConnectionProbeStep token = result.Steps.Single(s => s.Step == ConnectionStep.Token);
        Assert.Contains("token for " + Mailbox + ", expires ", token.Detail);
        Assert.Contains("roles SMTP.SendAsApp (SMTP.SendAsApp present)", token.Detail);
        Assert.Equal(("XOAUTH2", Mailbox), (result.AuthMechanism, result.AuthenticatedAs));
        Assert.Equal(1, _rig.Endpoint.TokenRequests);
        AssertNoTokenShown(result);
    }

    [Fact]
    public async Task Probe_BadClientSecret_TokenStepFailsWithTheEndpointErrorAndAdviceAndNoAuthIsSent()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        var provider = _rig.Microsoft365("not-the-secret");

        ConnectionProbeResult result = await ProbeAsync(hop, provider);

        Assert.False(result.Succeeded);
        Assert.Equal(ConnectionStep.Token, result.FailedStep);
        Assert.False(result.IsTransient);
        ConnectionProbeStep last = result.Steps.Last();
        Assert.Equal((ConnectionStep.Token, ConnectionProbeOutcome.Failed), (last.Step, last.Outcome));
        Assert.DoesNotContain(result.Steps, s => s.Step == ConnectionStep.Auth);
        ConnectionProbeToken oauth = result.OAuth;
        Assert.False(oauth.Acquired);
        Assert.Equal("invalid_client", oauth.ErrorCode);
        Assert.Contains("AADSTS7000215: Invalid client secret provided.", oauth.Error);
        Assert.StartsWith("The client secret is wrong or expired: create a new one in the app registration", oauth.Remedy);
        Assert.Contains(oauth.Remedy, last.Detail);
        Assert.Null(oauth.AuthReplyCode);
        Assert.DoesNotContain(result.Transcript, line => line.StartsWith("C: AUTH", StringComparison.Ordinal));
        Assert.Empty(hop.Events("auth"));
        Assert.DoesNotContain("not-the-secret", _context.Log + string.Join("\n", result.Steps) + oauth);
    }

    [Fact]
    public async Task Probe_TokenEndpointUnreachable_TokenStepFailsAsTransientAndSaysWhatToCheck()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        using var provider = new RefreshTokenProvider(new RefreshTokenOptions
        {
            TokenEndpoint = new Uri("https://127.0.0.1:" + LoopbackPort.Next() + "/token"),
            ClientId = TokenEndpoint.ClientId,
            ClientSecret = OAuthAccount.Secure(TokenEndpoint.ClientSecret),
            RefreshToken = OAuthAccount.Secure("refresh-0"),
            UserName = "scanner@gmail.test",
            HttpClient = _rig.Client,
        });

        ConnectionProbeResult result = await ProbeAsync(hop, provider);

        Assert.Equal((ConnectionStep.Token, (bool?)true), (result.FailedStep, result.IsTransient));
        Assert.Equal("unreachable", result.OAuth.ErrorCode);
        Assert.StartsWith("The token endpoint could not be reached: check its address, DNS, the firewall and any proxy", result.OAuth.Remedy);
        Assert.Equal((ConnectionStep.Token, ConnectionProbeOutcome.Failed), (result.Steps.Last().Step, result.Steps.Last().Outcome));
        Assert.Empty(hop.Events("auth"));
    }

    [Fact]
    public async Task Probe_NextHopRefusesEveryToken_Reports535WithItsDecodedErrorAfterOneRenewal()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        _rig.HopAcceptsIssuedTokens = false;
        var provider = _rig.Microsoft365(TokenEndpoint.ClientSecret);

        ConnectionProbeResult result = await ProbeAsync(hop, provider);

        Assert.Equal(ConnectionStep.Auth, result.FailedStep);
        Assert.Equal(
            new[] { "Token Succeeded", "Auth Failed", "Token Succeeded", "Auth Failed" },
            result.Steps.Where(s => s.Step == ConnectionStep.Token || s.Step == ConnectionStep.Auth).Select(s => s.Step + " " + s.Outcome));
        ConnectionProbeToken oauth = result.OAuth;
        Assert.Equal((535, 1), (oauth.AuthReplyCode, oauth.Refused));
        Assert.Equal("{\"status\": \"401\", \"schemes\": \"Bearer\", \"scope\": \"https://mail.google.com/\"}", oauth.NextHopError);
        ConnectionProbeStep refusedAuth = result.Steps.Last();
        Assert.Equal(535, refusedAuth.ReplyCode);
        Assert.Contains("the next hop's error: {\"status\": \"401\"", refusedAuth.Detail);
        Assert.Contains("refused by the next hop: 535", result.Steps.First(s => s.Step == ConnectionStep.Token).Detail);
        Assert.Contains("XOAUTH2 535", oauth.ToString());
        Assert.Equal(2, _rig.Endpoint.TokenRequests);
        AssertNoTokenShown(result);
    }

    [Theory]
    [InlineData(false, "Token Succeeded,Auth Failed,Token Succeeded,Auth Succeeded", 1)]
    [InlineData(true, "Token Succeeded,Token Succeeded,Auth Succeeded", 2)]
    public async Task Probe_RevokedTokenThenANewOne_ShowsTheRefusalAndTheAcceptedRenewal(bool hopClosesAfterRefusal, string steps, int connections)
    {
        await using AuthNextHop hop = await StartHopAsync(hopClosesAfterRefusal ? new[] { "--oauth-close" } : Array.Empty<string>());
        if (hop == null)
        {
            return;
        }
        var provider = _rig.Microsoft365(TokenEndpoint.ClientSecret);
        await provider.GetTokenAsync(_context.Token);
        _rig.Accept(Array.Empty<string>());

        ConnectionProbeResult result = await ProbeAsync(hop, provider);

        Assert.True(result.Succeeded, result.Error);
        Assert.Equal(steps, string.Join(",", result.Steps.Where(s => s.Step == ConnectionStep.Token || s.Step == ConnectionStep.Auth).Select(s => s.Step + " " + s.Outcome)));
        Assert.Equal((235, 1, string.Empty), (result.OAuth.AuthReplyCode, result.OAuth.Refused, result.OAuth.NextHopError));
        Assert.Matches("; refused by the next hop: 535 5\\.7\\.8 [^(]+ \\(\\{\"status\": \"401\"", result.Steps.First(s => s.Step == ConnectionStep.Token).Detail);
        Assert.Contains("the next hop refused a token, renewed; XOAUTH2 235", result.OAuth.ToString());
        Assert.Equal(connections, hop.Events("connect").Count);
        AssertNoTokenShown(result);
    }

    [Fact]
    public async Task Probe_StaticTokenRefused_FailsAtAuthWithTheDecodedErrorAndSaysItCannotBeRenewed()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        string token = _rig.Endpoint.IssueJwt("https://outlook.office365.com", new[] { "SMTP.SendAsApp" }, null);
        _rig.AddIssued(token);
        _context.Options.Credential = new NetworkCredential(Mailbox, string.Empty);
        _context.Options.OAuthToken = OAuthAccount.Secure(token);

        ConnectionProbeResult result = await ProbeAsync(hop, null);

        Assert.Equal(ConnectionStep.Auth, result.FailedStep);
        Assert.Equal(
            new[] { "Token Succeeded", "Auth Failed", "Token Failed" },
            result.Steps.Where(s => s.Step == ConnectionStep.Token || s.Step == ConnectionStep.Auth).Select(s => s.Step + " " + s.Outcome));
        ConnectionProbeToken oauth = result.OAuth;
        Assert.Equal((false, "token_rejected", 535, 1), (oauth.Acquired, oauth.ErrorCode, oauth.AuthReplyCode, oauth.Refused));
        Assert.StartsWith("A static token cannot be renewed", oauth.Remedy);
        Assert.StartsWith("{\"status\": \"401\"", oauth.NextHopError);
        Assert.Contains("A static token cannot be renewed", result.Error);
        AssertNoTokenShown(result);
    }

    [Fact]
    public async Task Probe_ExchangeTokenWithoutSendAsApp_WarnsWhatToGrant()
    {
        string token = _rig.Endpoint.IssueJwt("https://outlook.office365.com", null, null);
        await using AuthNextHop hop = await StartHopAsync("--oauth", Mailbox + ":" + token);
        if (hop == null)
        {
            return;
        }
        _context.Options.Credential = new NetworkCredential(Mailbox, string.Empty);
        _context.Options.OAuthToken = OAuthAccount.Secure(token);
        _rig.AddIssued(token);

        ConnectionProbeResult result = await ProbeAsync(hop, null);

        Assert.True(result.Succeeded, result.Error);
        ConnectionProbeToken oauth = result.OAuth;
        Assert.Equal("static OAuth2 token for " + Mailbox, oauth.Provider);
        Assert.True(oauth.IsMicrosoft365);
        Assert.False(oauth.HasSendAsApp);
        Assert.Empty(oauth.Roles);
        string warning = Assert.Single(oauth.Warnings);
        Assert.Contains("neither the SMTP.SendAsApp role nor the SMTP.Send scope", warning);
        Assert.Contains("(SMTP.SendAsApp MISSING); WARNING: the token has neither", result.Steps.Single(s => s.Step == ConnectionStep.Token).Detail);
        AssertNoTokenShown(result);
    }

    [Fact]
    public async Task Probe_RefreshTokenAccount_ShowsScopesAndNoMicrosoftVerdict()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        using RefreshTokenProvider provider = _rig.RefreshToken("scanner@gmail.test");

        ConnectionProbeResult result = await ProbeAsync(hop, provider);

        Assert.True(result.Succeeded, result.Error);
        ConnectionProbeToken oauth = result.OAuth;
        Assert.Equal(("scanner@gmail.test", false, (bool?)null), (oauth.UserName, oauth.IsMicrosoft365, oauth.HasSendAsApp));
        Assert.Equal(new[] { "https://mail.google.com/" }, oauth.Scopes);
        Assert.Empty(oauth.Warnings);
        Assert.Equal(235, oauth.AuthReplyCode);
        AssertNoTokenShown(result);
    }

    private Task<AuthNextHop> StartHopAsync(params string[] extraArguments) => _rig.StartHopAsync(_output, extraArguments);

    /// <summary>Probes the hop (plain TCP on loopback, TLS explicitly off) with the provider as the default OAuth2 account.</summary>
    private async Task<ConnectionProbeResult> ProbeAsync(AuthNextHop hop, IAccessTokenProvider provider)
    {
        _context.Options.NextHop = hop.Address;
        _context.Options.Tls = ClientTlsMode.None;
        if (provider != null)
        {
            _context.Options.OAuthAccounts = OAuthRig.Accounts(provider);
        }
        ConnectionProbeResult result = await ConnectionProbe.RunAsync(_context.Options, null, _context.Token);
        foreach (ConnectionProbeStep step in result.Steps)
        {
            _output.WriteLine(step.ToString());
        }
        foreach (string line in result.Transcript)
        {
            _output.WriteLine(line);
        }
        _output.WriteLine("OAuth: " + result.OAuth);
        return result;
    }

    /// <summary>The token travels only inside AUTH, which the transcript masks: it is in no part of the result and no log line.</summary>
    private void AssertNoTokenShown(ConnectionProbeResult result)
    {
        Assert.Contains("C: AUTH XOAUTH2 ********", result.Transcript);
        _rig.AssertNoTokenIn(
            new[] { result.ToString(), result.Error, result.OAuth.ToString(), _context.Log }
                .Concat(result.Steps.Select(s => s.ToString()))
                .Concat(result.Transcript)
                .Concat(typeof(ConnectionProbeToken).GetProperties().Select(p => Convert.ToString(p.GetValue(result.OAuth), System.Globalization.CultureInfo.InvariantCulture))),
            result.OAuth.UserName);
    }
}
