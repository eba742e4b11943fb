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
    private readonly SpoolDirectory _spool;
    private readonly FileStream _content;
    private FileStream _envelopeFile;
    private bool _committed;
    private bool _disposed;

    internal IncomingMessage(SpoolDirectory spool, string id)
    {
        _spool = spool;
        Id = id;
        _envelopeFile = new FileStream(NewEnvelopePath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1024);
        try
        {
            _content = new FileStream(ContentPath, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 16 * 1024, FileOptions.Asynchronous);
        }
        catch
        {
            _envelopeFile.Dispose();
            File.Delete(NewEnvelopePath);
            throw;
        }
    }

    /// <summary>The new message's id.</summary>
    public string Id { get; }

    /// <summary>The envelope to fill in before committing.</summary>
    public Envelope Envelope { get; } = new Envelope();

    /// <summary>The content file, open for writing: the message as received, after dot-unstuffing.</summary>
    public Stream Content => _content;

    /// <summary>The content file's path.</summary>
    public string ContentPath => Path.Combine(_spool.Path, Id + SpoolDirectory.ContentSuffix);

    private string NewEnvelopePath => Path.Combine(_spool.Path, SpoolDirectory.EnvelopeFileName(Id, RelayMessageState.New));

    private string ReadyEnvelopePath => Path.Combine(_spool.Path, SpoolDirectory.EnvelopeFileName(Id, RelayMessageState.Ready));

    /// <summary>
    /// Writes the envelope, flushes content and envelope to disk and renames the envelope from
    /// <c>.envelope.new</c> to <c>.envelope</c>. When the task completes the message is durable.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait; the commit itself may still complete.</param>
    /// <returns>The committed message.</returns>
    /// <exception cref="IOException">The files could not be written, flushed or renamed.</exception>
    public async Task<RelayMessage> CommitAsync(CancellationToken cancellationToken)
    {
        ThrowIfDisposed();
        if (_committed)
        {
            throw new InvalidOperationException("The message '" + Id + "' is committed already.");
        }
        await _content.FlushAsync(cancellationToken).ConfigureAwait(false);
        _envelopeFile.SetLength(0);
        Envelope.WriteTo(_envelopeFile);
        _envelopeFile.Flush(flushToDisk: false);

        await _spool.Committer.CommitAsync(this, cancellationToken).ConfigureAwait(false);
        _committed = true;
        long size = _content.Length;
        CloseFiles();
        return new RelayMessage(_spool.Path, Id, RelayMessageState.Ready, Envelope, size, DateTimeOffset.UtcNow);
    }

    /// <summary>Flushes both files to the disk (fsync / FlushFileBuffers).</summary>
    internal void FlushToDisk()
    {
        _content.Flush(flushToDisk: true);
        _envelopeFile.Flush(flushToDisk: true);
    }

    /// <summary>The commit's one state change: <c>.envelope.new</c> becomes <c>.envelope</c>.</summary>
    internal void RenameToReady() => File.Move(NewEnvelopePath, ReadyEnvelopePath);

    /// <summary>Closes the files; an uncommitted message's files are deleted.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        CloseFiles();
        if (!_committed)
        {
            DeleteQuietly(NewEnvelopePath);
            DeleteQuietly(ContentPath);
        }
    }

    private void CloseFiles()
    {
        _content.Dispose();
        _envelopeFile?.Dispose();
        _envelopeFile = null;
    }

    private static void DeleteQuietly(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Left for start-up recovery, which removes stale .new receipts.
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
