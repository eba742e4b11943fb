// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.Spool;

/// <summary>
/// A message being received into a spool: its content file is written through
/// <see cref="Content"/>, its envelope filled in, and <see cref="CommitAsync"/> makes it durable
/// and ready. Disposing an uncommitted message deletes its files.
/// </summary>
/// <remarks>
/// The <c>.envelope.new</c> file exists from the start, so a receipt interrupted by a crash is
/// recognisable as incomplete and never mistaken for a committed message.
/// </remarks>
public sealed class IncomingMessage : IDisposable
{
    /// <summary>The content file's write buffer: memory per message stays this size whatever the message's.</summary>
    internal const int ContentBufferSize = 16 * 1024;

    private readonly SpoolDirectory _spool;
    private SpoolFileWriter _content;
    private SpoolFileWriter _envelopeFile;
    private long _size;
    private bool _commitStarted;
    private bool _committed;
    private bool _renamed;
    private bool _disposed;

    internal IncomingMessage(SpoolDirectory spool, string id)
    {
        _spool = spool;
        Id = id;
        // Held before the files exist, so a recovery running in this process never sees them unheld.
        HeldMessages.Hold(_spool.Path, Id);
        try
        {
            // CreateNew on both: an id already taken (say, by a process with the same pid in
            // another container sharing the spool) fails here instead of overwriting its files.
            _envelopeFile = SpoolFileWriter.CreateNew(NewEnvelopePath, 1024, asynchronous: false);
            try
            {
                _content = SpoolFileWriter.CreateNew(ContentPath, ContentBufferSize, asynchronous: true);
            }
            catch
            {
                _envelopeFile.Dispose();
                File.Delete(NewEnvelopePath);
                throw;
            }
        }
        catch
        {
            HeldMessages.Release(_spool.Path, Id);
            throw;
        }
    }

    /// <summary>The new message's id.</summary>
    public string Id { get; }

    /// <summary>The envelope to fill in before committing.</summary>
    public Envelope Envelope { get; } = new Envelope();

    /// <summary>The content file, open for writing: the message as received, after dot-unstuffing.</summary>
    public Stream Content => _content ?? throw new ObjectDisposedException(nameof(IncomingMessage));

    /// <summary>The content file's path.</summary>
    public string ContentPath => Path.Combine(_spool.Path, Id + SpoolDirectory.ContentSuffix);

    private string NewEnvelopePath => Path.Combine(_spool.Path, SpoolDirectory.EnvelopeFileName(Id, RelayMessageState.New));

    private string ReadyEnvelopePath => Path.Combine(_spool.Path, SpoolDirectory.EnvelopeFileName(Id, RelayMessageState.Ready));

    /// <summary>
    /// Writes the envelope, flushes content and envelope to disk and renames the envelope from
    /// <c>.envelope.new</c> to <c>.envelope</c>, then makes the rename durable. When the task
    /// completes the message is on the disk and ready; only then may the client be told 250.
    /// </summary>
    /// <remarks>
    /// The token is checked before the commit starts and not after: a commit, once queued, runs
    /// to its end (a few disk flushes), so that cancelling can never leave a ready envelope whose
    /// content was deleted by <see cref="Dispose"/>.
    /// </remarks>
    /// <param name="cancellationToken">Cancels the commit if it has not started.</param>
    /// <returns>The committed message.</returns>
    /// <exception cref="IOException">The files could not be written, flushed or renamed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled before the commit started.</exception>
    public async Task<RelayMessage> CommitAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if (_commitStarted)
        {
            throw new InvalidOperationException("The message '" + Id + "' is committed already.");
        }
        cancellationToken.ThrowIfCancellationRequested();
        _commitStarted = true;
        // Position, not Length: no fstat per message. The envelope file is still empty.
        _size = _content.Position;
        Envelope.WriteTo(_envelopeFile);
        if (FileDurability.CanSyncFileSystem)
        {
            // The committer's one syncfs covers these files; closing now spreads the work over
            // the sessions instead of the committer's single thread. Synchronously: what is left
            // is one buffer's write into the page cache, and Linux has no asynchronous buffered
            // write, so .NET's FlushAsync would only add a thread-pool hop per message.
            Seal(flushToDisk: false);
        }
        else
        {
            await _content.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }
        await _spool.Committer.CommitAsync(this).ConfigureAwait(false);
        _committed = true;
        HeldMessages.Release(_spool.Path, Id);
        MessageIdGenerator.TryGetTime(Id, out DateTimeOffset received);
        return new RelayMessage(_spool.Path, Id, RelayMessageState.Ready, Envelope, _size, received);
    }

    /// <summary>Flushes both files (to the disk when asked: fsync / FlushFileBuffers) and closes them.</summary>
    /// <remarks>Closed before the rename: Windows cannot rename a file its own handle holds without delete sharing.</remarks>
    internal void Seal(bool flushToDisk)
    {
        if (_content != null)
        {
            _content.Flush(flushToDisk);
            _content.Dispose();
            _content = null;
        }
        if (_envelopeFile != null)
        {
            _envelopeFile.Flush(flushToDisk);
            _envelopeFile.Dispose();
            _envelopeFile = null;
        }
    }

    /// <summary>The commit's one state change: <c>.envelope.new</c> becomes <c>.envelope</c>.</summary>
    internal void RenameToReady()
    {
        if (!ContendedFile.TryMove(NewEnvelopePath, ReadyEnvelopePath, durable: true))
        {
            throw new FileNotFoundException("The receipt '" + NewEnvelopePath + "' vanished before its commit; was the spool cleaned by hand?", NewEnvelopePath);
        }
        _renamed = true;
    }

    /// <summary>Closes the files; an uncommitted message's files are deleted.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _content?.Dispose();
        _content = null;
        _envelopeFile?.Dispose();
        _envelopeFile = null;
        // Once renamed the message is ready, even if the flush after the rename failed: deleting
        // its content then could leave a ready envelope without content, and a duplicate is
        // better than that.
        if (!_committed && !_renamed)
        {
            // Envelope first: a content file without an envelope is never taken for a message.
            DeleteQuietly(NewEnvelopePath);
            DeleteQuietly(ContentPath);
        }
        HeldMessages.Release(_spool.Path, Id);
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            ContendedFile.Delete(path);
        }
        catch (IOException)
        {
            // Left for recovery, which removes stale receipts and orphaned content.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new ObjectDisposedException(nameof(IncomingMessage));
        }
    }
}
