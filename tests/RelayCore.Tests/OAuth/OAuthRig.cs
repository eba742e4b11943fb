// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Threading.Tasks;
using RelayCore.OAuth;
using RelayCore.Tests.Forwarding.Peers;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.OAuth;

/// <summary>
/// The parts of an XOAUTH2 test: the HTTPS token endpoint, an HTTP client that trusts its test CA, providers
/// of both kinds against it, and the aiosmtpd next hop that accepts exactly the tokens the endpoint issued
/// (its token file, which a test can empty to revoke them).
/// </summary>
internal sealed class OAuthRig : IDisposable
{
    internal const string Mailbox = "printer@contoso.test";

    private readonly object _tokenFileLock = new object();
    private readonly ConcurrentQueue<string> _issued = new ConcurrentQueue<string>();

    /// <param name="directory">Where the next hop's token file and record go; the caller removes it.</param>
    internal OAuthRig(string directory)
    {
        Directory = directory;
        Client = Endpoint.CreateClient();
        TokenFile = Path.Combine(directory, "accepted-tokens");
        HopAcceptsIssuedTokens = true;
    }

    internal TokenEndpoint Endpoint { get; } = new TokenEndpoint();

    internal HttpClient Client { get; }

    internal string Directory { get; }

    /// <summary>The next hop's accepted tokens, one a line, read at every AUTH.</summary>
    internal string TokenFile { get; }

    /// <summary>Every access token the endpoint issued (and any a test adds), for the checks that none is shown.</summary>
    internal IReadOnlyCollection<string> Issued => _issued;

    /// <summary>
    /// Whether the next hop accepts what the endpoint issues from now on, as a real service trusts its identity
    /// provider; false makes it refuse every new token (the endpoint still counts and records them).
    /// </summary>
    internal bool HopAcceptsIssuedTokens
    {
        set
        {
            Endpoint.Issued = value ? token =>
            {
                _issued.Enqueue(token);
                lock (_tokenFileLock)
                {
                    File.AppendAllText(TokenFile, token + "\n");
                }
            }
            : _issued.Enqueue;
        }
    }

    /// <summary>Starts the XOAUTH2-only next hop on the token file; null when python3 with aiosmtpd is missing (see <see cref="AuthNextHop.IsAvailable"/>).</summary>
    internal async Task<AuthNextHop> StartHopAsync(ITestOutputHelper output, params string[] extraArguments)
    {
        if (!AuthNextHop.IsAvailable(output))
        {
            return null;
        }
        return await AuthNextHop.StartAsync(Directory, new[] { "--mechanisms", "XOAUTH2", "--oauth-file", TokenFile }.Concat(extraArguments).ToArray());
    }

    /// <summary>The Microsoft 365 (MSAL, client credentials) provider against the endpoint, sending as <see cref="Mailbox"/>.</summary>
    internal Microsoft365TokenProvider Microsoft365(string secret) => new Microsoft365TokenProvider(new Microsoft365Options
    {
        TenantId = TokenEndpoint.Tenant,
        ClientId = TokenEndpoint.ClientId,
        ClientSecret = OAuthAccount.Secure(secret),
        Mailbox = Mailbox,
        Authority = Endpoint.AuthorityUrl,
        HttpClient = Client,
    });

    /// <summary>The refresh-token provider against the endpoint's token URL, with the endpoint's current refresh token.</summary>
    internal RefreshTokenProvider RefreshToken(string user) => new RefreshTokenProvider(new RefreshTokenOptions
    {
        TokenEndpoint = Endpoint.TokenUrl,
        ClientId = TokenEndpoint.ClientId,
        ClientSecret = OAuthAccount.Secure(TokenEndpoint.ClientSecret),
        RefreshToken = OAuthAccount.Secure(Endpoint.CurrentRefreshToken),
        UserName = user,
        HttpClient = Client,
    });

    /// <summary>A set whose default account is the provider; the set disposes nothing.</summary>
    internal static OAuthAccountSet Accounts(IAccessTokenProvider provider) =>
        new OAuthAccountSet(provider, Array.Empty<KeyValuePair<string, IAccessTokenProvider>>());

    /// <summary>The tokens the next hop accepts now.</summary>
    internal string[] Accepted()
    {
        lock (_tokenFileLock)
        {
            return File.Exists(TokenFile) ? File.ReadAllLines(TokenFile).Where(line => line.Length > 0).ToArray() : Array.Empty<string>();
        }
    }

    /// <summary>Replaces the tokens the next hop accepts: an empty list revokes all issued so far.</summary>
    internal void Accept(IEnumerable<string> tokens)
    {
        lock (_tokenFileLock)
        {
            File.WriteAllLines(TokenFile, tokens);
        }
    }

    /// <summary>Counts a token made outside the endpoint among those that must never be shown.</summary>
    internal void AddIssued(string token) => _issued.Enqueue(token);

    /// <summary>No issued token, nor the XOAUTH2 initial response that carries one for <paramref name="user"/>, appears in the texts.</summary>
    internal void AssertNoTokenIn(IEnumerable<string> texts, string user)
    {
        string[] issued = _issued.ToArray();
        Assert.NotEmpty(issued);
        string shown = string.Join("\n", texts);
        foreach (string token in issued)
        {
            Assert.DoesNotContain(token, shown, StringComparison.Ordinal);
            string initialResponse = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("user=" + user + "\x01auth=Bearer " + token + "\x01\x01"));
            Assert.DoesNotContain(initialResponse, shown, StringComparison.Ordinal);
        }
    }

    public void Dispose()
    {
        Client.Dispose();
        Endpoint.Dispose();
    }
}
