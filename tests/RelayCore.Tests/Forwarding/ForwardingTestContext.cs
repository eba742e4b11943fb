// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Threading;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.Tests.Hosting;

namespace RelayCore.Tests.Forwarding;

/// <summary>One connection test's temporary directory, forwarding options that log into a queue, and a deadline token.</summary>
internal sealed class ForwardingTestContext : IDisposable
{
    private readonly CancellationTokenSource _deadline = new CancellationTokenSource(TestServer.Deadline);

    internal ForwardingTestContext()
    {
        Directory = TestServer.NewDirectory();
        Options = new ForwardingOptions
        {
            HeloDomain = "relay.test",
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ResponseTimeout = TimeSpan.FromSeconds(10),
            LogLevel = RelayLogLevel.Debug,
            Log = (level, text) => LogLines.Enqueue(DateTime.UtcNow.ToString("HH:mm:ss.fff") + " " + level + ": " + text),
        };
    }

    internal string Directory { get; }

    internal ForwardingOptions Options { get; }

    internal ConcurrentQueue<string> LogLines { get; } = new ConcurrentQueue<string>();

    internal string Log => string.Join(Environment.NewLine, LogLines);

    internal CancellationToken Token => _deadline.Token;

    internal string WriteFile(string name, string text)
    {
        string path = Path.Combine(Directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    internal bool Logged(string fragment) => LogLines.Any(line => line.Contains(fragment, StringComparison.Ordinal));

    public void Dispose()
    {
        _deadline.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A peer still writing its log; the OS cleans the temp directory later.
        }
    }
}
