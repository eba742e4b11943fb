// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Buffers;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;

namespace RelayCore.Spool;

/// <summary>
/// A new spool file, created exclusively and written through a fixed-size buffer; on Linux straight
/// over its file descriptor, elsewhere over an unbuffered <see cref="FileStream"/>.
/// </summary>
/// <remarks>
/// Why not FileStream on Linux: its open and close add flock, fstatfs, lseek and fcntl calls (ten
/// per received message, for two files), and its asynchronous writes are a synchronous write on a
/// thread-pool thread, since Linux has no asynchronous buffered file write; here a write that
/// overflows the buffer is done in place, into the page cache. Nothing in the spool relies on the
/// advisory lock FileStream takes.
/// </remarks>
internal sealed class SpoolFileWriter : Stream
{
    private const int WriteOnly = 0x1;
    private const int Create = 0x40;
    private const int Exclusive = 0x80;
    private const int CloseOnExec = 0x80000;
    private const int NewFileMode = 0x1B6; // 0666, less the umask, as FileStream creates files
    private const int ErrnoNoPermission = 1;
    private const int ErrnoNoEntry = 2;
    private const int ErrnoInterrupted = 4;
    private const int ErrnoAccess = 13;
    private const int ErrnoExists = 17;

    private readonly string _path;
    private readonly FileStream _file;
    private readonly SafeFileHandle _descriptor;
    private byte[] _buffer;
    private int _buffered;
    private long _position;

    private SpoolFileWriter(string path, SafeFileHandle descriptor, FileStream file, int bufferSize)
    {
        _path = path;
        _descriptor = descriptor;
        _file = file;
        _buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
    }

    /// <inheritdoc/>
    public override bool CanRead => false;

    /// <inheritdoc/>
    public override bool CanSeek => false;

    /// <inheritdoc/>
    public override bool CanWrite => _buffer != null;

    /// <inheritdoc/>
    public override long Length => throw new NotSupportedException();

    /// <summary>Bytes written so far, buffered or not: the file's size once flushed.</summary>
    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    /// <summary>Creates the file, failing if it exists.</summary>
    /// <param name="path">The file to create.</param>
    /// <param name="bufferSize">The write buffer's size.</param>
    /// <param name="asynchronous">Where writes can be asynchronous (not Linux): whether to open the file for them.</param>
    /// <exception cref="IOException">The file exists or cannot be created.</exception>
    /// <exception cref="UnauthorizedAccessException">Permission denied.</exception>
    internal static SpoolFileWriter CreateNew(string path, int bufferSize, bool asynchronous)
    {
        if (!FileDurability.IsLinux)
        {
            var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 0, asynchronous ? FileOptions.Asynchronous : FileOptions.None);
            return new SpoolFileWriter(path, null, file, bufferSize);
        }
        int fd = NativeMethods.open(path, WriteOnly | Create | Exclusive | CloseOnExec, NewFileMode);
        if (fd < 0)
        {
            throw Error(Marshal.GetLastWin32Error(), "create", path);
        }
        // A SafeFileHandle made from a descriptor closes it and nothing more (no lock to release),
        // and closes it even if the writer is never disposed.
        return new SpoolFileWriter(path, new SafeFileHandle((IntPtr)fd, ownsHandle: true), null, bufferSize);
    }

    /// <inheritdoc/>
    public override void Write(byte[] buffer, int offset, int count)
    {
        if (TryBuffer(buffer, offset, count))
        {
            return;
        }
        WriteBuffered();
        if (_file != null)
        {
            _file.Write(buffer, offset, count);
        }
        else
        {
            WriteOut(buffer, offset, count);
        }
        _position += count;
    }

    /// <inheritdoc/>
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        if (_file == null)
        {
            // Linux: done in place, see the remarks.
            Write(buffer, offset, count);
            return Task.CompletedTask;
        }
        if (TryBuffer(buffer, offset, count))
        {
            return Task.CompletedTask;
        }
        return WriteThroughAsync(buffer, offset, count, cancellationToken);
    }

    /// <summary>Writes the buffer out and, when asked, the file to the disk (fsync / FlushFileBuffers).</summary>
    internal void Flush(bool flushToDisk)
    {
        WriteBuffered();
        if (_file != null)
        {
            _file.Flush(flushToDisk);
        }
        else if (flushToDisk && NativeMethods.fsync(_descriptor) != 0)
        {
            throw Error(Marshal.GetLastWin32Error(), "flush", _path);
        }
    }

    /// <inheritdoc/>
    public override void Flush() => Flush(flushToDisk: false);

    /// <inheritdoc/>
    public override Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_file == null)
        {
            Flush();
            return Task.CompletedTask;
        }
        return FlushThroughAsync(cancellationToken);
    }

    /// <inheritdoc/>
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    /// <inheritdoc/>
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Writes out what is buffered, as FileStream does, and closes the file.</summary>
    protected override void Dispose(bool disposing)
    {
        if (_buffer == null)
        {
            return;
        }
        try
        {
            if (disposing)
            {
                WriteBuffered();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _file?.Dispose();
            _descriptor?.Dispose();
            base.Dispose(disposing);
        }
    }

    private static Exception Error(int errno, string action, string path)
    {
        string text = "Cannot " + action + " '" + path + "' (errno " + errno + ").";
        switch (errno)
        {
            case ErrnoExists:
                return new IOException("Cannot create '" + path + "': it exists.");
            case ErrnoNoEntry:
                return new DirectoryNotFoundException(text);
            case ErrnoAccess:
            case ErrnoNoPermission:
                return new UnauthorizedAccessException(text);
            default:
                return new IOException(text);
        }
    }

    private bool TryBuffer(byte[] buffer, int offset, int count)
    {
        if (_buffer == null)
        {
            throw new ObjectDisposedException(nameof(SpoolFileWriter));
        }
        if (count > _buffer.Length - _buffered)
        {
            return false;
        }
        Buffer.BlockCopy(buffer, offset, _buffer, _buffered, count);
        _buffered += count;
        _position += count;
        return true;
    }

    private async Task WriteThroughAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        int buffered = _buffered;
        _buffered = 0;
        await _file.WriteAsync(_buffer, 0, buffered, cancellationToken).ConfigureAwait(false);
        await _file.WriteAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
        _position += count;
    }

    private async Task FlushThroughAsync(CancellationToken cancellationToken)
    {
        int buffered = _buffered;
        _buffered = 0;
        await _file.WriteAsync(_buffer, 0, buffered, cancellationToken).ConfigureAwait(false);
        await _file.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private void WriteBuffered()
    {
        if (_buffered == 0)
        {
            return;
        }
        int buffered = _buffered;
        _buffered = 0;
        if (_file != null)
        {
            _file.Write(_buffer, 0, buffered);
        }
        else
        {
            WriteOut(_buffer, 0, buffered);
        }
    }

    /// <summary>Linux: write(2) until all is written; a short write is continued, EINTR retried.</summary>
    private void WriteOut(byte[] buffer, int offset, int count)
    {
        while (count > 0)
        {
            long written = (long)NativeMethods.write(_descriptor, ref buffer[offset], (IntPtr)count);
            if (written < 0)
            {
                int errno = Marshal.GetLastWin32Error();
                if (errno == ErrnoInterrupted)
                {
                    continue;
                }
                throw Error(errno, "write", _path);
            }
            offset += (int)written;
            count -= (int)written;
        }
    }
}
