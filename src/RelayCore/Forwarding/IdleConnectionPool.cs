// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.Forwarding;

/// <summary>
/// Open next-hop connections between forwarding runs, so the server's frequent triggers reuse a
/// session instead of connecting (and authenticating) each time; each one ends with QUIT after the idle timeout.
/// </summary>
internal sealed class IdleConnectionPool
{
    private readonly TimeSpan _idleTimeout;
    private readonly TimeSpan _quitTimeout;
    private readonly object _lock = new object();
    private readonly Dictionary<string, List<Entry>> _idle = new Dictionary<string, List<Entry>>(StringComparer.Ordinal);
    private readonly List<Task> _quitting = new List<Task>();

    internal IdleConnectionPool(TimeSpan idleTimeout, TimeSpan quitTimeout)
    {
        _idleTimeout = idleTimeout;
        _quitTimeout = quitTimeout;
    }

    /// <summary>Takes an idle connection of the route, or null; the caller checks it is still alive.</summary>
    internal RelaySmtpClient TryTake(string routeKey)
    {
        lock (_lock)
        {
            if (!_idle.TryGetValue(routeKey, out List<Entry> entries) || entries.Count == 0)
            {
                return null;
            }
            Entry entry = entries[entries.Count - 1];
            entries.RemoveAt(entries.Count - 1);
            entry.Expiry.Cancel();
            entry.Expiry.Dispose();
            return entry.Client;
        }
    }

    /// <summary>Keeps a connection for the idle timeout, or ends it at once when it is broken or no time is set.</summary>
    internal void Park(string routeKey, RelaySmtpClient client)
    {
        if (!client.IsConnected || _idleTimeout <= TimeSpan.Zero)
        {
            Track(QuitAsync(client));
            return;
        }
        var entry = new Entry(client, new CancellationTokenSource());
        lock (_lock)
        {
            if (!_idle.TryGetValue(routeKey, out List<Entry> entries))
            {
                entries = new List<Entry>();
                _idle[routeKey] = entries;
            }
            entries.Add(entry);
        }
        Track(ExpireAsync(routeKey, entry));
    }

    /// <summary>Ends every idle connection with QUIT and waits for the QUITs in flight.</summary>
    internal async Task CloseAllAsync()
    {
        List<Entry> all;
        lock (_lock)
        {
            all = _idle.Values.SelectMany(entries => entries).ToList();
            _idle.Clear();
        }
        foreach (Entry entry in all)
        {
            entry.Expiry.Cancel();
            entry.Expiry.Dispose();
            Track(QuitAsync(entry.Client));
        }
        Task[] pending;
        lock (_lock)
        {
            pending = _quitting.ToArray();
        }
        await Task.WhenAll(pending).ConfigureAwait(false);
    }

    /// <summary>Ends a connection: QUIT when it is still up (bounded by the response timeout), then dispose.</summary>
    internal async Task QuitAsync(RelaySmtpClient client)
    {
        try
        {
            if (client.IsConnected)
            {
                using var deadline = new CancellationTokenSource(_quitTimeout);
                await client.DisconnectAsync(true, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (Exception error) when (!(error is OutOfMemoryException))
        {
            // The session is over either way; a next hop that already hung up owes no reply.
        }
        finally
        {
            client.Dispose();
        }
    }

    private async Task ExpireAsync(string routeKey, Entry entry)
    {
        try
        {
            await Task.Delay(_idleTimeout, entry.Expiry.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        bool removed;
        lock (_lock)
        {
            removed = _idle.TryGetValue(routeKey, out List<Entry> entries) && entries.Remove(entry);
        }
        if (removed)
        {
            entry.Expiry.Dispose();
            await QuitAsync(entry.Client).ConfigureAwait(false);
        }
    }

    private void Track(Task task)
    {
        lock (_lock)
        {
            _quitting.RemoveAll(done => done.IsCompleted);
            _quitting.Add(task);
        }
    }

    private sealed class Entry
    {
        internal Entry(RelaySmtpClient client, CancellationTokenSource expiry)
        {
            Client = client;
            Expiry = expiry;
        }

        internal RelaySmtpClient Client { get; }

        internal CancellationTokenSource Expiry { get; }
    }
}
