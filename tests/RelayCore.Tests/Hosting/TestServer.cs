// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Hosting;

namespace RelayCore.Tests.Hosting;

/// <summary>A running RelayServer on a loopback port 0 with its own temporary spool, removed on dispose.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    internal static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private TestServer(RelayServer server, string directory)
    {
        Server = server;
        Directory = directory;
    }

    internal RelayServer Server { get; }

    /// <summary>The temporary directory holding the spool (and any test files).</summary>
    internal string Directory { get; }

    internal string SpoolPath => Server.SpoolPath;

    internal ConcurrentQueue<string> LogLines { get; } = new ConcurrentQueue<string>();

    internal IPEndPoint EndPoint => Server.Endpoints.First(e => e.Address.Equals(IPAddress.Loopback));

    internal static string NewDirectory()
    {
        string directory = Path.Combine(Path.GetTempPath(), "relay-test-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        return directory;
    }

    internal static async Task<TestServer> StartAsync(Action<RelayServerOptions> configure = null, string directory = null)
    {
        directory ??= NewDirectory();
        var log = new ConcurrentQueue<string>();
        var options = new RelayServerOptions
        {
            SpoolPath = Path.Combine(directory, "spool"),
            Domain = "relay.test",
            Log = (level, text) => log.Enqueue(level + ": " + text),
            LogLevel = RelayLogLevel.Debug,
            ShutdownGracePeriod = TimeSpan.FromSeconds(2),
        };
        options.Ports.Add(0);
        options.ListenAddresses.Add(IPAddress.Loopback);
        configure?.Invoke(options);
        using var cancel = new CancellationTokenSource(Deadline);
        RelayServer server = await RelayServer.StartAsync(options, cancel.Token);
        var test = new TestServer(server, directory);
        options.Log = (level, text) => test.LogLines.Enqueue(level + ": " + text);
        return test;
    }

    /// <summary>The id in a <c>250 2.0.0 OK id=...</c> reply.</summary>
    internal static string IdOf(string reply) => reply.Substring(reply.IndexOf("id=", StringComparison.Ordinal) + 3);

    internal string ReadContent(string id) => File.ReadAllText(Path.Combine(SpoolPath, id + ".content"));

    internal RelayCore.Spool.Envelope ReadEnvelope(string id) =>
        RelayCore.Spool.Envelope.Parse(File.ReadAllText(Path.Combine(SpoolPath, id + ".envelope")));

    internal string[] Envelopes(string pattern = "*.envelope") => System.IO.Directory.GetFiles(SpoolPath, pattern);

    internal string[] AllSpoolFiles() => System.IO.Directory.GetFiles(SpoolPath);

    internal async Task<SmtpTestClient> ConnectAsync(IPEndPoint endPoint = null)
    {
        var client = await SmtpTestClient.ConnectAsync(endPoint ?? EndPoint);
        return client;
    }

    /// <summary>Connects, reads the greeting and says hello.</summary>
    internal async Task<SmtpTestClient> ConnectGreetedAsync(string hello = "EHLO client.example")
    {
        SmtpTestClient client = await ConnectAsync();
        await client.GreetAsync(hello);
        return client;
    }

    /// <summary>Waits until a condition holds, failing with a message naming what never happened.</summary>
    internal static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? deadline = null)
    {
        TimeSpan limit = deadline ?? Deadline;
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (stopwatch.Elapsed > limit)
            {
                throw new TimeoutException("Never happened within " + limit.TotalSeconds + " s: " + what);
            }
            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using (var cancel = new CancellationTokenSource(Deadline))
        {
            await Server.StopAsync(cancel.Token);
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a slow peer process; the temp directory is cleaned by the OS later.
        }
    }
}
