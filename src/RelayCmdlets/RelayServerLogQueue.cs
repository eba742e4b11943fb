// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using RelayCore.Hosting;

namespace RelayCmdlets;

/// <summary>
/// Carries a server's log lines from its threads to the pipeline thread, which alone may write
/// them (STYLE.md rule 2.8).
/// </summary>
/// <remarks>
/// Bounded and non-blocking on the server's side: a slow console drops lines (and says how many)
/// rather than slowing SMTP sessions. Once closed, lines are dropped: a server started without
/// <c>-Wait</c> outlives the cmdlet that could have written them.
/// </remarks>
internal sealed class RelayServerLogQueue
{
    private const int Capacity = 10000;

    private readonly BlockingCollection<KeyValuePair<RelayLogLevel, string>> _lines =
        new BlockingCollection<KeyValuePair<RelayLogLevel, string>>(new ConcurrentQueue<KeyValuePair<RelayLogLevel, string>>(), Capacity);

    private readonly object _gate = new object();
    private bool _isClosed;
    private long _dropped;

    /// <summary>Queues a line; called on server threads (the <see cref="RelayServerOptions.Log"/> callback).</summary>
    /// <param name="level">The line's level.</param>
    /// <param name="line">The text.</param>
    internal void Add(RelayLogLevel level, string line)
    {
        // The lock orders Add against Close: BlockingCollection throws on an add after CompleteAdding.
        lock (_gate)
        {
            if (!_isClosed && !_lines.TryAdd(new KeyValuePair<RelayLogLevel, string>(level, line)))
            {
                _dropped++;
            }
        }
    }

    /// <summary>Stops queueing; a consumer in <see cref="TakeUntilClosed"/> returns once the queue is empty.</summary>
    internal void Close()
    {
        lock (_gate)
        {
            if (!_isClosed)
            {
                _isClosed = true;
                _lines.CompleteAdding();
            }
        }
    }

    /// <summary>Takes and resets the count of lines dropped because the queue was full.</summary>
    /// <returns>The count since the last call.</returns>
    internal long TakeDroppedCount()
    {
        lock (_gate)
        {
            long dropped = _dropped;
            _dropped = 0;
            return dropped;
        }
    }

    /// <summary>Takes the lines queued so far without waiting.</summary>
    /// <returns>The lines, oldest first.</returns>
    internal IEnumerable<KeyValuePair<RelayLogLevel, string>> TakeQueued()
    {
        while (_lines.TryTake(out KeyValuePair<RelayLogLevel, string> line))
        {
            yield return line;
        }
    }

    /// <summary>Takes lines as they come, until the queue is closed and empty.</summary>
    /// <param name="cancellationToken">Ends the wait early (Ctrl+C).</param>
    /// <returns>The lines, oldest first.</returns>
    /// <exception cref="System.OperationCanceledException">The token was cancelled.</exception>
    internal IEnumerable<KeyValuePair<RelayLogLevel, string>> TakeUntilClosed(CancellationToken cancellationToken) =>
        _lines.GetConsumingEnumerable(cancellationToken);
}
