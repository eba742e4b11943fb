// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Spool;

namespace SpoolCommitBench;

/// <summary>
/// Durable commits straight into a spool, without SMTP: how many messages per second the
/// spool engine makes durable with N concurrent writers. Usage:
/// <c>dotnet run -c Release --project bench/spool-commit -- &lt;spool-dir&gt; &lt;messages&gt; &lt;writers&gt; [size]</c>.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length < 3)
        {
            Console.Error.WriteLine("usage: SpoolCommitBench <spool-dir> <messages> <writers> [size-bytes]");
            return 2;
        }
        string directory = args[0];
        int total = int.Parse(args[1], CultureInfo.InvariantCulture);
        int writers = int.Parse(args[2], CultureInfo.InvariantCulture);
        int size = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 1024;
        SpoolDirectory spool = SpoolDirectory.Open(directory, create: true);
        byte[] body = Enumerable.Repeat((byte)'x', size).ToArray();

        await CommitAsync(spool, body, Math.Min(total, 200), writers);
        TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await CommitAsync(spool, body, total, writers);
        clock.Stop();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;

        int ready = Directory.GetFiles(spool.Path, "emailrelay.*.envelope").Length;
        Console.WriteLine(string.Format(
            CultureInfo.InvariantCulture,
            "RESULT spool-commit messages={0} writers={1} size={2} secs={3:F3} msgs_per_s={4:F1} cpu_s={5:F2} ready_files={6}",
            total, writers, size, clock.Elapsed.TotalSeconds, total / clock.Elapsed.TotalSeconds, cpu.TotalSeconds, ready));
        return 0;
    }

    private static Task CommitAsync(SpoolDirectory spool, byte[] body, int count, int writers)
    {
        int next = 0;
        return Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                using IncomingMessage incoming = spool.CreateMessage();
                await incoming.Content.WriteAsync(body, 0, body.Length, CancellationToken.None).ConfigureAwait(false);
                incoming.Envelope.From = "sender@example.com";
                incoming.Envelope.ToRemote.Add("rcpt@example.com");
                incoming.Envelope.Client = "127.0.0.1";
                await incoming.CommitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        })));
    }
}
