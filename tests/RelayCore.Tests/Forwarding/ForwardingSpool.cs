// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Spool;
using RelayCore.Tests.Spool;

namespace RelayCore.Tests.Forwarding;

/// <summary>A temporary spool with helpers to fill it and to forward it to a next hop.</summary>
internal sealed class ForwardingSpool : IDisposable
{
    private readonly TempSpool _temp = new TempSpool();

    internal SpoolDirectory Spool => _temp.Spool;

    internal string Path => _temp.Path;

    /// <summary>A message body of a few lines, unique per call.</summary>
    internal static byte[] SimpleContent(string tag) => Encoding.ASCII.GetBytes(
        "From: alice@example.com\r\nTo: bob@example.net\r\nSubject: " + tag + "\r\n\r\nHello " + tag + ".\r\n");

    /// <summary>Commits a message with the given content and envelope settings.</summary>
    internal async Task<RelayMessage> AddAsync(byte[] content, IEnumerable<string> to = null, Action<Envelope> edit = null)
    {
        using IncomingMessage incoming = Spool.CreateMessage();
        await incoming.Content.WriteAsync(content, 0, content.Length);
        incoming.Envelope.From = "alice@example.com";
        incoming.Envelope.ToRemote.AddRange(to ?? new[] { "bob@example.net" });
        incoming.Envelope.Client = "127.0.0.1";
        edit?.Invoke(incoming.Envelope);
        return await incoming.CommitAsync(CancellationToken.None);
    }

    /// <summary>Commits several simple messages.</summary>
    internal async Task<List<RelayMessage>> AddManyAsync(int count)
    {
        var added = new List<RelayMessage>();
        for (int i = 0; i < count; i++)
        {
            added.Add(await AddAsync(SimpleContent("message " + i)));
        }
        return added;
    }

    /// <summary>The contents of <see cref="AddManyAsync"/>'s messages as text, in ordinal order.</summary>
    internal static List<string> ManyContents(int count) =>
        Enumerable.Range(0, count).Select(i => Encoding.ASCII.GetString(SimpleContent("message " + i))).OrderBy(text => text, StringComparer.Ordinal).ToList();

    /// <summary>Everything the next hops received, as text, in ordinal order.</summary>
    internal static List<string> Delivered(params Peers.SmtpNextHop[] hops) =>
        hops.SelectMany(hop => hop.Messages()).Select(message => Encoding.ASCII.GetString(message.Data)).OrderBy(text => text, StringComparer.Ordinal).ToList();

    internal static ForwardingOptions Options(NextHopAddress hop, Action<ForwardingOptions> edit = null)
    {
        var options = new ForwardingOptions
        {
            NextHop = hop,
            ConnectTimeout = TimeSpan.FromSeconds(10),
            ResponseTimeout = TimeSpan.FromSeconds(10),
            IdleTimeout = TimeSpan.Zero,
        };
        edit?.Invoke(options);
        return options;
    }

    /// <summary>Forwards every ready message with a fresh agent, collecting the results.</summary>
    internal async Task<(ForwardingSummary Summary, List<ForwardResult> Results)> ForwardAsync(ForwardingOptions options)
    {
        var results = new List<ForwardResult>();
        await using var agent = new ForwardingAgent(options);
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        ForwardingSummary summary = await agent.ForwardAsync(Spool, null, results.Add, deadline.Token);
        return (summary, results);
    }

    internal List<RelayMessage> InState(RelayMessageState state) => Spool.Find(null, new[] { state }).ToList();

    internal int FileCount => Directory.GetFiles(Path).Length;

    public void Dispose() => _temp.Dispose();
}
