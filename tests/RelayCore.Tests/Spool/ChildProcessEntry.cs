// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Spool;

namespace RelayCore.Tests.Spool;

/// <summary>
/// The test assembly's entry point, for tests that need a process they can kill:
/// <c>dotnet RelayCore.Tests.dll commit-loop &lt;spool&gt; &lt;sessions&gt;</c>, or
/// <c>forward &lt;spool&gt; &lt;host:port&gt;</c> (forwards every ready message, printing each settled id).
/// </summary>
internal static class ChildProcessEntry
{
    internal const string CommitLoop = "commit-loop";

    internal const string Forward = "forward";

    /// <summary>Bounds the child's life if its parent never kills it.</summary>
    private static readonly TimeSpan s_maximumRun = TimeSpan.FromSeconds(60);

    private static readonly object s_outputLock = new object();

    internal static async Task<int> Main(string[] args)
    {
        if (args.Length == 3 && args[0] == CommitLoop)
        {
            await RunCommitLoopAsync(SpoolDirectory.Open(args[1], create: false), int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        }
        if (args.Length == 3 && args[0] == Forward)
        {
            await RunForwardAsync(SpoolDirectory.Open(args[1], create: false), NextHopAddress.Parse(args[2]));
            return 0;
        }
        Console.Error.WriteLine("usage: " + CommitLoop + " <spool> <sessions> | " + Forward + " <spool> <host:port>");
        return 2;
    }

    /// <summary>Starts this assembly as a child process with the given arguments, output redirected.</summary>
    internal static Process Start(params string[] arguments)
    {
        var start = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(typeof(ChildProcessEntry).Assembly.Location);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        return Process.Start(start);
    }

    private static string DotnetHost()
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(host) && File.Exists(host))
        {
            return host;
        }
        string current = Environment.ProcessPath;
        return current != null && Path.GetFileNameWithoutExtension(current) == "dotnet" ? current : "dotnet";
    }

    /// <summary>One forwarding run, as a server or Invoke-RelayForward would make it, until done or killed.</summary>
    private static async Task RunForwardAsync(SpoolDirectory spool, NextHopAddress hop)
    {
        using var deadline = new CancellationTokenSource(s_maximumRun);
        await using var agent = new ForwardingAgent(new ForwardingOptions { NextHop = hop, IdleTimeout = TimeSpan.Zero });
        await agent.ForwardAsync(spool, null, result =>
        {
            Console.Out.Write(result.Id + " " + result.Outcome + "\n");
            Console.Out.Flush();
        }, deadline.Token).ConfigureAwait(false);
    }

    /// <summary>The content a crash-test message must have in full: large enough to take several writes.</summary>
    internal static string ExpectedContent(string id)
    {
        var content = new StringBuilder("Subject: crash test\r\nMessage-ID: <" + id + "@relay.test>\r\n\r\n");
        for (int line = 0; line < 600; line++)
        {
            content.Append(id).Append(' ').Append(line.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)).Append(' ', 40).Append("\r\n");
        }
        return content.Append("END\r\n").ToString();
    }

    /// <summary>Commits messages from several sessions until killed, printing each id once its commit returned.</summary>
    private static async Task RunCommitLoopAsync(SpoolDirectory spool, int sessions)
    {
        using var deadline = new CancellationTokenSource(s_maximumRun);
        await Task.WhenAll(Enumerable.Range(0, sessions).Select(_ => Task.Run(async () =>
        {
            while (!deadline.IsCancellationRequested)
            {
                using IncomingMessage incoming = spool.CreateMessage();
                byte[] content = Encoding.ASCII.GetBytes(ExpectedContent(incoming.Id));
                // Small writes, so a kill can land with the content half written.
                for (int offset = 0; offset < content.Length; offset += 4096)
                {
                    await incoming.Content.WriteAsync(content, offset, Math.Min(4096, content.Length - offset), deadline.Token);
                }
                incoming.Envelope.From = "crash@example.com";
                incoming.Envelope.ToRemote.Add("test@example.net");
                incoming.Envelope.Client = "127.0.0.1";
                RelayMessage committed = await incoming.CommitAsync(deadline.Token);
                lock (s_outputLock)
                {
                    Console.Out.Write(committed.Id + "\n");
                    Console.Out.Flush();
                }
            }
        }))).ConfigureAwait(false);
    }
}
