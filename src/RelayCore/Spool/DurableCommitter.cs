// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading.Tasks;

namespace RelayCore.Spool;

/// <summary>
/// Commits received messages in groups, one pass of a loop per group: sync the disk, report
/// the previous group committed, rename this group's envelopes to ready; repeat.
/// </summary>
/// <remarks>
/// <para>
/// One sync does two jobs: it writes this group's contents and envelopes to the disk, and it
/// makes the previous group's renames durable. So a message is acknowledged after two syncs
/// (its data, then its rename), while the disk sees one sync per group, however large the
/// group; sessions arriving during a sync form the next group.
/// </para>
/// <para>
/// Ordering: a group's renames are issued only after the sync that wrote its files returned,
/// so no crash can leave a <c>.envelope</c> whose content is not on the disk; and a message is
/// reported committed only after a later sync covered its rename, so an acknowledged message
/// never reverts to <c>.new</c> (which recovery would delete).
/// </para>
/// <para>
/// On Linux the sync is one <c>syncfs()</c>. Elsewhere it is a flush of each file of the group
/// (in parallel, which lets the file system batch them) and of the directory (Unix), and on
/// Windows renames write through. One committer serves each spool directory in a process, so
/// every session and cmdlet using it shares the groups.
/// </para>
/// </remarks>
internal sealed class DurableCommitter
{
    private static readonly ConcurrentDictionary<string, DurableCommitter> s_committers = new ConcurrentDictionary<string, DurableCommitter>(
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);

    private readonly string _directory;
    private readonly object _gate = new object();
    private List<Request> _waiting = new List<Request>();
    private bool _running;

    private DurableCommitter(string directory) => _directory = directory;

    /// <summary>How many syncs the committer issued; for tests and diagnostics.</summary>
    internal long SyncCount { get; private set; }

    /// <summary>The committer shared by everything in this process that writes to the directory.</summary>
    internal static DurableCommitter For(string directory) => s_committers.GetOrAdd(directory, path => new DurableCommitter(path));

    /// <summary>Queues a message whose files are written; completes when it is durable and ready.</summary>
    internal Task CommitAsync(IncomingMessage message)
    {
        var request = new Request(message);
        bool start;
        lock (_gate)
        {
            _waiting.Add(request);
            start = !_running;
            _running = true;
        }
        if (start)
        {
            _ = Task.Run(Run);
        }
        return request.Done.Task;
    }

    private void Run()
    {
        var renamed = new List<Request>();
        while (true)
        {
            List<Request> group;
            lock (_gate)
            {
                group = _waiting;
                if (group.Count == 0 && renamed.Count == 0)
                {
                    _running = false;
                    return;
                }
                _waiting = new List<Request>();
            }
            if (!FileDurability.CanSyncFileSystem)
            {
                group = FlushEach(group);
            }
            try
            {
                Sync(group.Count);
            }
            catch (Exception error)
            {
                Fail(renamed, error);
                Fail(group, error);
                renamed.Clear();
                continue;
            }
            foreach (Request request in renamed)
            {
                request.Done.TrySetResult(true);
            }
            renamed.Clear();
            foreach (Request request in group)
            {
                try
                {
                    request.Message.RenameToReady();
                    renamed.Add(request);
                }
                catch (Exception error)
                {
                    request.Done.TrySetException(error);
                }
            }
        }
    }

    private void Sync(int newMessages)
    {
        SyncCount++;
        // With no new files to write, only the renames need the disk: a directory fsync does
        // that without syncfs's write-back of everything dirty on the file system.
        if (FileDurability.CanSyncFileSystem && newMessages > 0)
        {
            FileDurability.SyncFileSystem(_directory);
        }
        else
        {
            FileDurability.FlushDirectory(_directory);
        }
    }

    /// <summary>Where there is no syncfs: flushes each message's files, in parallel; returns those that made it.</summary>
    private static List<Request> FlushEach(List<Request> group)
    {
        var flushed = new ConcurrentBag<Request>();
        Parallel.ForEach(group, request =>
        {
            try
            {
                request.Message.Seal(flushToDisk: true);
                flushed.Add(request);
            }
            catch (Exception error)
            {
                request.Done.TrySetException(error);
            }
        });
        return new List<Request>(flushed);
    }

    private static void Fail(List<Request> requests, Exception error)
    {
        foreach (Request request in requests)
        {
            request.Done.TrySetException(error);
        }
    }

    private sealed class Request
    {
        internal Request(IncomingMessage message) => Message = message;

        internal IncomingMessage Message { get; }

        internal TaskCompletionSource<bool> Done { get; } = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
