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
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.OAuth;
using RelayCore.Tests.Forwarding.Peers;
using RelayCore.Tests.Hosting;
using RelayCore.Tests.Integration;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.OAuth;

/// <summary>
/// Issue 5 end to end, server level: legacy senders submit with AUTH PLAIN (a local secrets file account) to a
/// running RelayServer, which forwards with XOAUTH2 using tokens from the HTTPS token endpoint (MSAL's client
/// credentials, or a refresh token) to the aiosmtpd next hop that accepts only the tokens the endpoint issued.
/// </summary>
public sealed class ServerXOAuth2Tests : IDisposable
{
    private const string Device = "scanner-3f";
    private const string DevicePassword = "device-pw-1";
    private const string GmailUser = "scanner@gmail.test";

    private static readonly TimeSpan s_bulkDeadline = TimeSpan.FromSeconds(120);

    private readonly ITestOutputHelper _output;
    private readonly string _directory = TestServer.NewDirectory();
    private readonly OAuthRig _rig;
    private readonly ConcurrentQueue<string> _forwardingLog = new ConcurrentQueue<string>();

    public ServerXOAuth2Tests(ITestOutputHelper output)
    {
        _output = output;
        _rig = new OAuthRig(_directory);
    }

    public void Dispose()
    {
        foreach (string line in _forwardingLog)
        {
            _output.WriteLine(line);
        }
        _rig.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // The next hop's record still held by its exiting process; the OS cleans the temp directory later.
        }
    }

    [Fact]
    public async Task ThousandMessagesOverFourConnections_Microsoft365_OneTokenRequestAndAllArrive()
    {
        const int Clients = 4, PerClient = 250;
        await using AuthNextHop hop = await _rig.StartHopAsync(_output);
        if (hop == null)
        {
            return;
        }
        var provider = _rig.Microsoft365(TokenEndpoint.ClientSecret);
        await using TestServer server = await StartServerAsync(hop, provider, o => o.ForwardOnDisconnect = true, connections: 4);

        // All four clients finish sending before any quits: the first disconnect then finds the whole load ready.
        using var cancel = new CancellationTokenSource(s_bulkDeadline);
        var allSent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int sending = Clients;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
        {
            using SmtpClient client = await SubmitterAsync(server, cancel.Token);
            for (int i = 0; i < PerClient; i++)
            {
                // Each its own envelope sender, which the next hop records: every message must arrive exactly once.
                await client.SendAsync(ServerForwardingTests.NewMessage("bulk"), Sender("bulk-" + c + "-" + i), new[] { MailboxAddress.Parse("office@example.net") }, cancel.Token);
            }
            if (Interlocked.Decrement(ref sending) == 0)
            {
                allSent.SetResult();
            }
            await allSent.Task.WaitAsync(cancel.Token);
            await client.DisconnectAsync(quit: true, cancel.Token);
        })));
        await TestServer.WaitUntilAsync(() => server.Server.GetStatistics().Forwarded == Clients * PerClient, "1,000 messages forwarded", s_bulkDeadline);

        Assert.Equal(1, _rig.Endpoint.TokenRequests);
        IReadOnlyList<JsonElement> messages = hop.Events("message");
        Assert.Equal(Clients * PerClient, messages.Count);
        Assert.All(messages, m => Assert.Equal(OAuthRig.Mailbox, m.GetProperty("auth_user").GetString()));
        Assert.Equal(Clients * PerClient, Senders(hop).Distinct(StringComparer.Ordinal).Count());
        IReadOnlyList<JsonElement> logins = hop.Events("auth");
        Assert.Equal(4, logins.Count);
        Assert.Equal(4, hop.Events("connect").Count);
        Assert.All(logins, login => Assert.Equal((true, OAuthRig.Mailbox), (login.GetProperty("ok").GetBoolean(), login.GetProperty("user").GetString())));
        Assert.Empty(server.AllSpoolFiles());
        Assert.Equal(0, server.Server.GetStatistics().ForwardDeferred);
        _rig.AssertNoTokenIn(server.LogLines.Concat(_forwardingLog), OAuthRig.Mailbox);
    }

    [Fact]
    public async Task ExpiredToken_SwaksAuthPlainImmediateForwarding_RenewedBeforeUseWithoutA535()
    {
        if (!Peer.IsAvailable("swaks", _output))
        {
            return;
        }
        await using AuthNextHop hop = await _rig.StartHopAsync(_output);
        if (hop == null)
        {
            return;
        }
        using RefreshTokenProvider provider = _rig.RefreshToken(GmailUser);
        TestClock clock = TestClock.Drive(provider);
        await using TestServer server = await StartServerAsync(hop, provider, o => o.ForwardImmediately = true);
        (int firstExit, string firstOutput) = await SwaksAsync(server, "before-expiry");
        // The next hop honours expiry too: the first token is no longer accepted once it has expired.
        _rig.Accept(Array.Empty<string>());
        clock.Now += TimeSpan.FromSeconds(_rig.Endpoint.ExpiresIn + 60);

        (int secondExit, string secondOutput) = await SwaksAsync(server, "after-expiry");

        Assert.True(firstExit == 0, firstOutput);
        Assert.True(secondExit == 0, secondOutput);
        Assert.Equal(2, _rig.Endpoint.TokenRequests);
        Assert.Equal(new[] { true, true }, hop.Events("auth").Select(e => e.GetProperty("ok").GetBoolean()));
        Assert.Equal(new[] { Sender("before-expiry").Address, Sender("after-expiry").Address }, Senders(hop));
        Assert.Equal(GmailUser, hop.Events("auth").Last().GetProperty("user").GetString());
        Assert.Empty(server.AllSpoolFiles());
    }

    [Fact]
    public async Task RevokedToken_SwaksAuthPlainProxy_OneRetryWithANewTokenThenDelivery()
    {
        if (!Peer.IsAvailable("swaks", _output))
        {
            return;
        }
        await using AuthNextHop hop = await _rig.StartHopAsync(_output);
        if (hop == null)
        {
            return;
        }
        var provider = _rig.Microsoft365(TokenEndpoint.ClientSecret);
        await using TestServer server = await StartServerAsync(hop, provider, o => o.ForwardOnDisconnect = true);
        (int firstExit, string firstOutput) = await SwaksAsync(server, "before-revocation");
        await TestServer.WaitUntilAsync(() => server.Server.GetStatistics().Forwarded == 1, "the first message forwarded");
        _rig.Accept(Array.Empty<string>());

        (int secondExit, string secondOutput) = await SwaksAsync(server, "after-revocation");
        await TestServer.WaitUntilAsync(() => server.Server.GetStatistics().Forwarded == 2, "the second message forwarded");

        Assert.True(firstExit == 0 && secondExit == 0, firstOutput + secondOutput);
        Assert.Equal(2, _rig.Endpoint.TokenRequests);
        Assert.Equal(new[] { true, false, true }, hop.Events("auth").Select(e => e.GetProperty("ok").GetBoolean()));
        Assert.Equal(new[] { Sender("before-revocation").Address, Sender("after-revocation").Address }, Senders(hop));
        Assert.Equal(0, server.Server.GetStatistics().ForwardDeferred);
        Assert.Empty(server.AllSpoolFiles());
        Assert.Contains(_forwardingLog, line => line.Contains(
            "the next hop refused the OAuth2 token of " + OAuthRig.Mailbox + " (535, {\"status\": \"401\", \"schemes\": \"Bearer\"", StringComparison.Ordinal));
        _rig.AssertNoTokenIn(server.LogLines.Concat(_forwardingLog), OAuthRig.Mailbox);
    }

    [Fact]
    public async Task BadClientSecret_InvalidClient_EveryMessageDeferredReadyAndTheLogSaysWhatToFix()
    {
        const int Count = 5;
        await using AuthNextHop hop = await _rig.StartHopAsync(_output);
        if (hop == null)
        {
            return;
        }
        var provider = _rig.Microsoft365("not-the-secret");
        await using TestServer server = await StartServerAsync(hop, provider, o => o.ForwardOnDisconnect = true);
        using var cancel = new CancellationTokenSource(TestServer.Deadline);

        using (SmtpClient client = await SubmitterAsync(server, cancel.Token))
        {
            for (int i = 0; i < Count; i++)
            {
                await client.SendAsync(ServerForwardingTests.NewMessage("bad secret " + i), cancel.Token);
            }
            await client.DisconnectAsync(quit: true, cancel.Token);
        }
        await TestServer.WaitUntilAsync(() => server.Server.GetStatistics().ForwardDeferred == Count, "every message deferred");

        // Ready envelopes end in .envelope (busy and bad ones have a further suffix); each has its content.
        string[] ready = server.Envelopes().Select(Path.GetFileName).ToArray();
        Assert.Equal(Count, ready.Length);
        Assert.Equal(Count, server.Envelopes("*.content").Length);
        Assert.Equal(2 * Count, server.AllSpoolFiles().Length);
        RelayServerStatistics statistics = server.Server.GetStatistics();
        Assert.Equal((0, 0), (statistics.Forwarded, statistics.ForwardFailed));
        Assert.Contains("invalid_client: AADSTS7000215: Invalid client secret provided.", statistics.LastForwardError);
        foreach (string name in ready)
        {
            string id = name.Substring(0, name.Length - ".envelope".Length);
            string line = Assert.Single(server.LogLines, l => l.StartsWith("Warning: forwarding deferred (left ready): " + id + " to ", StringComparison.Ordinal));
            Assert.Contains("invalid_client: AADSTS7000215: Invalid client secret provided.", line);
            Assert.Contains("The client secret is wrong or expired: create a new one in the app registration (Certificates & secrets) and store it in the account.", line);
        }
        Assert.Equal(1, _rig.Endpoint.TokenRequests);
        Assert.Empty(hop.Events("auth"));
        Assert.Empty(hop.Events("message"));
        Assert.DoesNotContain(server.LogLines.Concat(_forwardingLog), line => line.Contains("not-the-secret", StringComparison.Ordinal));
    }

    /// <summary>
    /// A server that requires AUTH from its clients (a secrets file with the device's account) and forwards to the
    /// hop with the provider as the default OAuth2 account; without an idle pool unless <paramref name="connections"/>
    /// asks for parallel sessions, so every pass opens (and authenticates) its own.
    /// </summary>
    private async Task<TestServer> StartServerAsync(AuthNextHop hop, IAccessTokenProvider provider, Action<RelayServerOptions> trigger, int connections = 1)
    {
        string secrets = Path.Combine(_directory, "server.secrets");
        File.WriteAllText(secrets, "server plain " + Device + " " + DevicePassword + "\n");
        return await TestServer.StartAsync(o =>
        {
            o.ServerSecretsPath = secrets;
            o.RequireAuthentication = true;
            o.Forwarding = new ForwardingOptions
            {
                NextHop = hop.Address,
                Tls = ClientTlsMode.None,
                HeloDomain = "relay.test",
                ConnectTimeout = TimeSpan.FromSeconds(5),
                ResponseTimeout = TimeSpan.FromSeconds(20),
                MaxConnections = connections,
                IdleTimeout = connections > 1 ? TimeSpan.FromSeconds(30) : TimeSpan.Zero,
                OAuthAccounts = OAuthRig.Accounts(provider),
                LogLevel = RelayLogLevel.Debug,
                Log = (level, text) => _forwardingLog.Enqueue(level + ": " + text),
            };
            trigger(o);
        });
    }

    /// <summary>swaks as a legacy sender: AUTH PLAIN with the device's account over plain SMTP on loopback, from <see cref="Sender"/>(<paramref name="tag"/>).</summary>
    private static Task<(int ExitCode, string Output)> SwaksAsync(TestServer server, string tag) =>
        Peer.RunAsync("swaks", "--server", "127.0.0.1", "--port", server.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--auth", "PLAIN", "--auth-user", Device, "--auth-password", DevicePassword,
            "--from", Sender(tag).Address, "--to", "office@example.net", "--helo", "scanner.branch.example",
            "--header", "Subject: " + tag, "--body", "Scanned document.", "--timeout", "30");

    /// <summary>The envelope sender that tells one test message from the others at the next hop.</summary>
    private static MailboxAddress Sender(string tag) => new MailboxAddress(string.Empty, tag + "@branch.example");

    /// <summary>A MailKit client logged in with AUTH PLAIN as the device: the bulk sender, faster than a process per message.</summary>
    private static async Task<SmtpClient> SubmitterAsync(TestServer server, CancellationToken cancellationToken)
    {
        var client = new SmtpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", server.EndPoint.Port, SecureSocketOptions.None, cancellationToken);
            await client.AuthenticateAsync(new SaslMechanismPlain(Device, DevicePassword), cancellationToken);
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>The envelope senders of what arrived at the next hop, in arrival order.</summary>
    private static IEnumerable<string> Senders(AuthNextHop hop) =>
        hop.Events("message").Select(m => m.GetProperty("mail_from").GetString());
}
