// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Spool;

namespace RelayCore.Tests.Spool;

/// <summary>
/// The test assembly's entry point, for tests that need a process they can kill:
/// <c>dotnet RelayCore.Tests.dll commit-loop &lt;spool&gt; &lt;sessions&gt;</c>.
/// </summary>
internal static class ChildProcessEntry
{
    internal const string CommitLoop = "commit-loop";

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
        Console.Error.WriteLine("usage: " + CommitLoop + " <spool> <sessions>");
        return 2;
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
