// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace RelayCore.Spool;

/// <summary>
/// Commits received messages in groups: the files of every message waiting are flushed to disk
/// together, each is renamed to ready, and the directory is flushed once for the whole group.
/// </summary>
/// <remarks>
/// A flush to disk costs about the same for one file as for many written at once, so concurrent
/// sessions share the cost instead of queueing behind each other's fsyncs.
/// </remarks>
internal sealed class DurableCommitter
{
    private readonly string _directory;
    private readonly Channel<Request> _requests = Channel.CreateUnbounded<Request>(new UnboundedChannelOptions { SingleReader = true });

    internal DurableCommitter(string directory)
    {
        _directory = directory;
        _ = Task.Run(RunAsync);
    }

    internal Task CommitAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        var request = new Request(message);
        if (!_requests.Writer.TryWrite(request))
        {
            throw new InvalidOperationException("The spool committer has stopped.");
        }
        return cancellationToken.CanBeCanceled ? WaitAsync(request.Done.Task, cancellationToken) : request.Done.Task;
    }

    private static async Task WaitAsync(Task commit, CancellationToken cancellationToken)
    {
        var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(() => cancelled.TrySetCanceled(cancellationToken)))
        {
            await (await Task.WhenAny(commit, cancelled.Task).ConfigureAwait(false)).ConfigureAwait(false);
        }
    }

    private async Task RunAsync()
    {
        var group = new List<Request>();
        while (await _requests.Reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (_requests.Reader.TryRead(out Request request))
            {
                group.Add(request);
            }
            await CommitGroupAsync(group).ConfigureAwait(false);
            group.Clear();
        }
    }

    private async Task CommitGroupAsync(List<Request> group)
    {
        var flushes = new Task[group.Count];
        for (int i = 0; i < group.Count; i++)
        {
            IncomingMessage message = group[i].Message;
            flushes[i] = group.Count == 1 ? RunInline(message.FlushToDisk) : Task.Run(message.FlushToDisk);
        }
        var renamed = new List<Request>(group.Count);
        for (int i = 0; i < group.Count; i++)
        {
            try
            {
                await flushes[i].ConfigureAwait(false);
                group[i].Message.RenameToReady();
                renamed.Add(group[i]);
            }
            catch (Exception error)
            {
                group[i].Done.TrySetException(error);
            }
        }
        if (renamed.Count == 0)
        {
            return;
        }
        try
        {
            FileDurability.FlushDirectory(_directory);
            foreach (Request request in renamed)
            {
                request.Done.TrySetResult(true);
            }
        }
        catch (Exception error)
        {
            foreach (Request request in renamed)
            {
                request.Done.TrySetException(error);
            }
        }
    }

    private static Task RunInline(Action action)
    {
        try
        {
            action();
            return Task.CompletedTask;
        }
        catch (Exception error)
        {
            return Task.FromException(error);
        }
    }

    private sealed class Request
    {
        internal Request(IncomingMessage message) => Message = message;

        internal IncomingMessage Message { get; }

        internal TaskCompletionSource<bool> Done { get; } = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
