// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Tests.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace RelayCore.Tests.Smtp;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurementCollection
{
    /// <summary>Tests that measure the process's memory run alone, so other tests do not pollute the figures.</summary>
    public const string Name = "Memory measurement";
}

[Collection(MemoryMeasurementCollection.Name)]
public class LargeMessageTests
{
    private const long MessageSize = 100L * 1024 * 1024;
    private const long AllowedGrowth = 32L * 1024 * 1024;
    private const int LineLength = 1000;

    private readonly ITestOutputHelper _output;

    public LargeMessageTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Data_100MiBMessage_IsStoredWithFlatMemory()
    {
        await using TestServer server = await TestServer.StartAsync(o => o.LogLevel = RelayCore.Hosting.RelayLogLevel.Information);
        using SmtpTestClient client = await server.ConnectGreetedAsync();
        await client.CommandAsync("MAIL FROM:<a@b> SIZE=" + MessageSize);
        await client.CommandAsync("RCPT TO:<c@d>");
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        // One reused line buffer: the client side must not hold the message either.
        byte[] chunk = new byte[64 * LineLength];
        for (int i = 0; i < chunk.Length; i++)
        {
            chunk[i] = (i % LineLength) switch
            {
                LineLength - 2 => (byte)'\r',
                LineLength - 1 => (byte)'\n',
                0 => (byte)'.',
                _ => (byte)('a' + (i % 26)),
            };
        }
        long chunks = MessageSize / chunk.Length;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        long baseline = process.WorkingSet64;
        long peak = baseline;
        using var sampling = new CancellationTokenSource();
        Task sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                process.Refresh();
                peak = Math.Max(peak, process.WorkingSet64);
                await Task.Delay(10);
            }
        });
        var stopwatch = Stopwatch.StartNew();

        for (long i = 0; i < chunks; i++)
        {
            await client.SendAsync(chunk);
        }
        string reply = await client.CommandAsync(".");
        stopwatch.Stop();
        sampling.Cancel();
        await sampler;

        Assert.StartsWith("250 2.0.0 OK id=", reply);
        string contentPath = Path.Combine(server.SpoolPath, TestServer.IdOf(reply) + ".content");
        long unstuffed = chunks * (chunk.Length - (chunk.Length / LineLength));
        long header;
        using (var reader = new StreamReader(contentPath))
        {
            header = reader.ReadLine().Length + 2;
        }
        Assert.Equal(unstuffed + header, new FileInfo(contentPath).Length);
        long growth = peak - baseline;
        _output.WriteLine($"100 MiB message: {stopwatch.Elapsed.TotalMilliseconds:F0} ms, working set {baseline / 1048576} MiB -> peak {peak / 1048576} MiB (growth {growth / 1048576.0:F1} MiB)");
        Assert.True(growth < AllowedGrowth, $"working set grew by {growth / 1048576.0:F1} MiB (limit {AllowedGrowth / 1048576} MiB)");
    }
}
