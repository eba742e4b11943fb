// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Text.Json;
using System.Threading.Tasks;
using RelayCore.Tests.Forwarding.Peers;
using RelayCore.Tests.OAuth;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Host;

/// <summary>
/// The acceptance line: a scheduled Invoke-RelayForward with a stored Microsoft 365 account runs without
/// a person and without a secret in its command line. The real relay host runs as a child process with standard
/// input redirected and only paths on its command line; the token endpoint is HTTPS on loopback (its test CA
/// trusted through OpenSSL's SSL_CERT_FILE, as an administrator trusts a private CA), and the next hop accepts
/// XOAUTH2 with the tokens that endpoint issued and nothing else.
/// </summary>
public sealed class ScheduledOAuthForwardTests : IClassFixture<ModuleRunspace>, IDisposable
{
    private const string Mailbox = "printer@contoso.test";

    private readonly ModuleRunspace _shell;
    private readonly ITestOutputHelper _output;
    private readonly TempFolder _folder = new TempFolder();
    private readonly TokenEndpoint _endpoint = new TokenEndpoint();
    private readonly ConcurrentQueue<string> _issued = new ConcurrentQueue<string>();
    private readonly object _tokenFileLock = new object();
    private readonly string _tokenFile;
    private readonly string _spool;
    private readonly string _account;
    private readonly Dictionary<string, string> _environment;

    public ScheduledOAuthForwardTests(ModuleRunspace shell, ITestOutputHelper output)
    {
        _shell = shell;
        _output = output;
        _tokenFile = Path.Combine(_folder.Path, "accepted-tokens");
        _spool = Path.Combine(_folder.Path, "spool");
        _account = Path.Combine(_folder.Path, "printer.oauth.json");
        // The next hop trusts what the endpoint issues, as Exchange Online trusts Entra ID.
        _endpoint.Issued = token =>
        {
            _issued.Enqueue(token);
            lock (_tokenFileLock)
            {
                File.AppendAllText(_tokenFile, token + "\n");
            }
        };
        string caFile = _folder.Write("token-endpoint-ca.pem", _endpoint.Authority.ExportCertificatePem());
        _environment = new Dictionary<string, string> { ["SSL_CERT_FILE"] = caFile };
    }

    public void Dispose()
    {
        _endpoint.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public async Task ScheduledForward_StoredMicrosoft365Account_SendsWithXOAuth2AndNoSecretInArgumentsOrOutput()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        CreateAccount(TokenEndpoint.ClientSecret);
        SubmitMessages(3);
        string[] arguments = ["-NoProfile", "-NonInteractive", "-File", WriteForwardScript(hop, verbose: false)];

        using RelayProcess relay = RelayProcess.Start(arguments, standardInput: "", _environment);
        string commandLine = ReadCommandLine(relay.Id);
        int exitCode = relay.WaitForExit(RelayProcess.DefaultTimeout);

        string all = relay.Output + relay.Error;
        Assert.True(exitCode == 0, "exit " + exitCode + "\n" + all + "\n" + hop.Output);
        Assert.Equal(1, _endpoint.TokenRequests);
        JsonElement login = Assert.Single(hop.Events("auth"));
        Assert.Equal(("XOAUTH2", Mailbox, true), (login.GetProperty("mechanism").GetString(), login.GetProperty("user").GetString(), login.GetProperty("ok").GetBoolean()));
        Assert.Equal(3, hop.Events("message").Count);
        Assert.Empty(Directory.GetFiles(_spool));
        if (OperatingSystem.IsLinux())
        {
            // The command line other users see was really read, not skipped.
            Assert.Contains("forward.ps1", commandLine, StringComparison.Ordinal);
        }
        AssertNoSecret(commandLine + string.Join(" ", arguments) + all);
    }

    [Fact]
    public async Task ScheduledForward_VerboseAndDebug_ShowNeitherClientSecretNorToken()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        CreateAccount(TokenEndpoint.ClientSecret);
        SubmitMessages(1);

        RelayResult result = RelayProcess.Run(["-NoProfile", "-File", WriteForwardScript(hop, verbose: true)], standardInput: "", _environment);
        _output.WriteLine(result.ToString());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("C: AUTH XOAUTH2", result.Output + result.Error, StringComparison.Ordinal);
        Assert.Single(hop.Events("message"));
        AssertNoSecret(result.Output + result.Error);
    }

    [Fact]
    public async Task ScheduledForward_WrongClientSecret_DefersWithEndpointErrorAndNeverShowsTheSecret()
    {
        const string WrongSecret = "wrong-secret~never-shown";
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        CreateAccount(WrongSecret);
        SubmitMessages(2);

        RelayResult result = RelayProcess.Run(["-NoProfile", "-File", WriteForwardScript(hop, verbose: true)], standardInput: "", _environment);

        Assert.Contains("invalid_client", result.Error, StringComparison.Ordinal);
        Assert.Empty(hop.Events("message"));
        Assert.Equal(2, Directory.GetFiles(_spool, "*.envelope").Length);
        Assert.DoesNotContain(WrongSecret, result.Output + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScheduledForward_AccountFileReadableByOthers_RefusedWithChmodAdviceAndNothingSent()
    {
        if (OperatingSystem.IsWindows())
        {
            _output.WriteLine("Windows protects the account with DPAPI, not file modes: nothing to refuse.");
            return;
        }
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        CreateAccount(TokenEndpoint.ClientSecret);
        File.SetUnixFileMode(_account, File.GetUnixFileMode(_account) | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        SubmitMessages(1);

        RelayResult result = RelayProcess.Run(["-NoProfile", "-File", WriteForwardScript(hop, verbose: false)], standardInput: "", _environment);

        Assert.True(result.ExitCode != 0, result.ToString());
        Assert.Contains("can be read by others", result.Error, StringComparison.Ordinal);
        Assert.Contains("chmod 600", result.Error, StringComparison.Ordinal);
        Assert.Equal(0, _endpoint.TokenRequests);
        Assert.Empty(hop.Events("connect"));
        Assert.Single(Directory.GetFiles(_spool, "*.envelope"));
    }

    [Fact]
    public async Task ScheduledServer_StoredRefreshTokenAccount_ForwardsAfterStartReturnedAndPersistsTheRotatedToken()
    {
        await using AuthNextHop hop = await StartHopAsync();
        if (hop == null)
        {
            return;
        }
        _endpoint.RotateRefreshTokens = true;
        PipelineResult created = _shell.Invoke(
            "New-RelayOAuthAccount RefreshToken -Path $path -TokenEndpoint $endpoint -ClientId $client -ClientSecret $secret -RefreshToken $refresh -UserName scanner@gmail.test",
            ("path", _account),
            ("endpoint", _endpoint.TokenUrl),
            ("client", TokenEndpoint.ClientId),
            ("secret", new NetworkCredential(string.Empty, TokenEndpoint.ClientSecret).SecurePassword),
            ("refresh", new NetworkCredential(string.Empty, _endpoint.CurrentRefreshToken).SecurePassword));
        Assert.True(created.Errors.Count == 0, string.Join("\n", created.Errors));
        SubmitMessages(2);
        // The server keeps forwarding after Start-RelayServer has returned and its cmdlet is gone.
        string script = _folder.Write("serve.ps1",
            "$null = Start-RelayServer -Name scheduled -SpoolPath '" + _spool + "' -Port 0 -ForwardTo 127.0.0.1:" + hop.Port.ToString(CultureInfo.InvariantCulture) +
            " -ClientTls None -OAuthAccountPath '" + _account + "' -ForwardOnStart\n" +
            "$deadline = [DateTime]::UtcNow.AddSeconds(30)\n" +
            "while (@(Get-RelaySpool -SpoolPath '" + _spool + "').Count -gt 0 -and [DateTime]::UtcNow -lt $deadline) { $null = [System.Threading.Thread]::CurrentThread.Join(50) }\n" +
            "Stop-RelayServer -Name scheduled\n");

        RelayResult result = RelayProcess.Run(["-NoProfile", "-File", script], standardInput: "", _environment);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(2, hop.Events("message").Count);
        Assert.All(hop.Events("auth"), login => Assert.Equal(("XOAUTH2", "scanner@gmail.test"), (login.GetProperty("mechanism").GetString(), login.GetProperty("user").GetString())));
        Assert.Equal(1, _endpoint.TokenRequests);
        Assert.Contains("\"refreshToken\": \"" + _endpoint.CurrentRefreshToken + "\"", File.ReadAllText(_account), StringComparison.Ordinal);
        AssertNoSecret(result.Output + result.Error);
        Assert.DoesNotContain("refresh-", result.Output + result.Error, StringComparison.Ordinal);
    }

    private async Task<AuthNextHop> StartHopAsync()
    {
        if (!AuthNextHop.IsAvailable(_output))
        {
            return null;
        }
        return await AuthNextHop.StartAsync(_folder.Path, "--mechanisms", "XOAUTH2", "--oauth-file", _tokenFile);
    }

    /// <summary>What an administrator does once, at a console: the secret goes in as a SecureString, never as an argument.</summary>
    private void CreateAccount(string clientSecret)
    {
        PipelineResult result = _shell.Invoke(
            "New-RelayOAuthAccount Microsoft365 -Path $path -TenantId $tenant -ClientId $client -ClientSecret $secret -Mailbox $mailbox -Authority $authority",
            ("path", _account),
            ("tenant", TokenEndpoint.Tenant),
            ("client", TokenEndpoint.ClientId),
            ("secret", new NetworkCredential(string.Empty, clientSecret).SecurePassword),
            ("mailbox", Mailbox),
            ("authority", _endpoint.AuthorityUrl));
        Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors));
    }

    private void SubmitMessages(int count)
    {
        for (int i = 1; i <= count; i++)
        {
            PipelineResult result = _shell.Invoke(
                "$null = Submit-RelayMessage -SpoolPath $spool -From scanner@contoso.test -To ('user' + $i + '@example.com') -Subject ('scan ' + $i) -Body 'scanned'",
                ("spool", _spool),
                ("i", i));
            Assert.True(result.Errors.Count == 0, string.Join("\n", result.Errors));
        }
    }

    /// <summary>The scheduled task's script: paths and the next hop only.</summary>
    private string WriteForwardScript(AuthNextHop hop, bool verbose)
    {
        // Global, as a scheduled task's profile would set them: every engine line down to the SMTP conversation.
        string preferences = verbose ? "$global:VerbosePreference = 'Continue'\n$global:DebugPreference = 'Continue'\n" : string.Empty;
        return _folder.Write("forward.ps1", preferences +
            "Invoke-RelayForward -SpoolPath '" + _spool + "' -To 127.0.0.1:" + hop.Port.ToString(CultureInfo.InvariantCulture) +
            " -ClientTls None -OAuthAccountPath '" + _account + "'" + "\n");
    }

    /// <summary>The child's command line as every user of the machine can read it (Linux), or empty elsewhere.</summary>
    private static string ReadCommandLine(int processId)
    {
        string path = "/proc/" + processId.ToString(CultureInfo.InvariantCulture) + "/cmdline";
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Replace('\0', ' ') : string.Empty;
        }
        catch (IOException)
        {
            // The process already exited: its arguments are the ones the test passed, checked too.
            return string.Empty;
        }
    }

    private void AssertNoSecret(string text)
    {
        Assert.DoesNotContain(TokenEndpoint.ClientSecret, text, StringComparison.Ordinal);
        foreach (string token in _issued)
        {
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
            // The XOAUTH2 initial response as it goes over the wire (RFC 7628 style, base64).
            string response = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes("user=" + Mailbox + "\u0001auth=Bearer " + token + "\u0001\u0001"));
            Assert.DoesNotContain(response, text, StringComparison.Ordinal);
        }
    }
}
