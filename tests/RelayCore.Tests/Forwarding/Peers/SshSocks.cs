// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Xunit.Abstractions;

namespace RelayCore.Tests.Forwarding.Peers;

/// <summary>
/// OpenSSH's dynamic forwarding (<c>ssh -D</c>) as a SOCKS 4, 4a and 5 proxy, because dante cannot do 4a:
/// a private sshd on a loopback port (own host key, config and authorized key in the test's directory) and
/// an <c>ssh -N -D</c> client logged in to it with a key. ssh -v logs every SOCKS request it takes.
/// </summary>
internal sealed class SshSocks : IAsyncDisposable
{
    internal const string Daemon = "/usr/sbin/sshd";
    internal const string Client = "/usr/bin/ssh";
    private const string KeyGenerator = "/usr/bin/ssh-keygen";

    private readonly PeerProcess _daemon;
    private readonly PeerProcess _client;

    private SshSocks(PeerProcess daemon, PeerProcess client, int port)
    {
        _daemon = daemon;
        _client = client;
        Port = port;
    }

    /// <summary>The SOCKS port (ssh's -D listener).</summary>
    internal int Port { get; }

    internal static bool IsAvailable(ITestOutputHelper output) =>
        Integration.Peer.IsAvailable(Daemon, output) && Integration.Peer.IsAvailable(Client, output) && Integration.Peer.IsAvailable(KeyGenerator, output);

    internal static async Task<SshSocks> StartAsync(string directory)
    {
        string hostKey = Path.Combine(directory, "ssh_host_key");
        string clientKey = Path.Combine(directory, "ssh_client_key");
        await GenerateKeyAsync(hostKey);
        await GenerateKeyAsync(clientKey);
        string authorized = Path.Combine(directory, "authorized_keys");
        File.Copy(clientKey + ".pub", authorized);
        // sshd refuses to start without its privilege separation directory, which only a booted system makes.
        Directory.CreateDirectory("/run/sshd");
        int sshPort = LoopbackPort.Next();
        string config = Path.Combine(directory, "sshd_config");
        File.WriteAllText(config, string.Join("\n",
            "Port " + sshPort,
            "ListenAddress 127.0.0.1",
            "HostKey " + hostKey,
            "AuthorizedKeysFile " + authorized,
            "PermitRootLogin prohibit-password",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "AllowTcpForwarding yes",
            "PidFile " + Path.Combine(directory, "sshd.pid"),
            "LogLevel DEBUG1",
            string.Empty));
        PeerProcess daemon = PeerProcess.Start(Daemon, "-D", "-e", "-f", config);
        PeerProcess client = null;
        try
        {
            await daemon.WaitForLineAsync("Server listening on 127.0.0.1");
            int socksPort = LoopbackPort.Next();
            client = PeerProcess.Start(Client, "-N", "-v", "-D", "127.0.0.1:" + socksPort, "-p", sshPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "-i", clientKey, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes",
                Environment.UserName + "@127.0.0.1");
            await client.WaitForLineAsync("debug1: Entering interactive session");
            return new SshSocks(daemon, client, socksPort);
        }
        catch
        {
            if (client != null)
            {
                await client.DisposeAsync();
            }
            await daemon.DisposeAsync();
            throw;
        }
    }

    /// <summary>How many SOCKS requests ssh took on its -D port.</summary>
    internal int SocksRequests => _client.Output.Count(l => l.Contains("forwarding to socks port", StringComparison.Ordinal));

    /// <summary>How many direct-tcpip channels sshd opened on the client's behalf (the connection to the next hop).</summary>
    internal int TunnelledConnections => _daemon.Output.Count(l => l.Contains("confirm direct-tcpip", StringComparison.Ordinal));

    internal string Log => string.Join(Environment.NewLine, _client.Output.Concat(_daemon.Output));

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync();
        await _daemon.DisposeAsync();
    }

    private static async Task GenerateKeyAsync(string path)
    {
        (int exitCode, string output) = await Integration.Peer.RunAsync(KeyGenerator, "-q", "-t", "ed25519", "-N", string.Empty, "-f", path);
        if (exitCode != 0)
        {
            throw new InvalidOperationException("ssh-keygen failed: " + output);
        }
    }
}
