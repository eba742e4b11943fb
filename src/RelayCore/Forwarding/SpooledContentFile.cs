// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.Forwarding;

/// <summary>
/// A spooled content file as the pipelined transaction sends it: the file's bytes as they are, plus a
/// CRLF when the file lacks a final one (SMTP data ends with a line end), the same bytes
/// <see cref="SpooledContent"/> gives MailKit.
/// </summary>
/// <remarks>
/// Files up to <see cref="InMemoryLimit"/> bytes (the usual case) are read once and closed before
/// anything is sent; larger ones are streamed through one pooled buffer, so memory stays bounded.
/// </remarks>
internal sealed class SpooledContentFile : IDisposable
{
    /// <summary>Content files up to this size are read whole and closed before sending (also <see cref="SpooledContent"/>'s limit).</summary>
    internal const int InMemoryLimit = 64 * 1024;

    /// <summary>The pooled buffer larger content files are streamed through.</summary>
    internal const int CopyBufferSize = 64 * 1024;
    private static readonly byte[] s_crlf = { (byte)'\r', (byte)'\n' };

    private FileStream _file;
    private byte[] _bytes;
    private readonly long _fileLength;
    private readonly bool _appendNewLine;

    private SpooledContentFile(FileStream file, byte[] bytes, long fileLength, bool appendNewLine)
    {
        _file = file;
        _bytes = bytes;
        _fileLength = fileLength;
        _appendNewLine = appendNewLine;
    }

    /// <summary>The bytes sent: the file, plus a CRLF when it does not end with one (BDAT's size, MAIL FROM's SIZE=).</summary>
    internal long Length => _fileLength + (_appendNewLine ? s_crlf.Length : 0);

    /// <summary>Opens a content file: small files are read whole at once.</summary>
    /// <exception cref="FileNotFoundException">The content file is missing.</exception>
    /// <exception cref="DirectoryNotFoundException">The spool directory is gone.</exception>
    internal static SpooledContentFile Open(string contentPath)
    {
        var file = new FileStream(contentPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        byte[] bytes = null;
        try
        {
            long length = file.Length;
            bool endsWithNewLine;
            if (length <= InMemoryLimit)
            {
                bytes = ArrayPool<byte>.Shared.Rent((int)Math.Max(length, 1));
                length = ReadAll(file, bytes, (int)length);
                file.Dispose();
                file = null;
                endsWithNewLine = EndsWithCrLf(bytes, (int)length);
            }
            else
            {
                endsWithNewLine = EndsWithCrLf(file);
                file.Position = 0;
            }
            var content = new SpooledContentFile(file, bytes, length, !endsWithNewLine);
            file = null;
            bytes = null;
            return content;
        }
        finally
        {
            file?.Dispose();
            if (bytes != null)
            {
                ArrayPool<byte>.Shared.Return(bytes);
            }
        }
    }

    /// <summary>Appends the content to <paramref name="writer"/>, dot-stuffed for DATA or raw for BDAT.</summary>
    internal async Task CopyToAsync(SmtpCommandWriter writer, Stream stream, bool dotStuff, CancellationTokenSource deadline)
    {
        writer.BeginContent();
        if (_bytes != null)
        {
            await writer.AppendContentAsync(stream, _bytes, 0, (int)_fileLength, dotStuff, deadline).ConfigureAwait(false);
        }
        else
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
            try
            {
                _file.Position = 0;
                long left = _fileLength;
                int read;
                while (left > 0 && (read = await _file.ReadAsync(buffer, 0, (int)Math.Min(buffer.Length, left), deadline.Token).ConfigureAwait(false)) > 0)
                {
                    await writer.AppendContentAsync(stream, buffer, 0, read, dotStuff, deadline).ConfigureAwait(false);
                    left -= read;
                }
                if (left > 0)
                {
                    throw new IOException("The content file became shorter while it was sent.");
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        if (_appendNewLine)
        {
            await writer.AppendContentAsync(stream, s_crlf, 0, s_crlf.Length, dotStuff, deadline).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _file?.Dispose();
        _file = null;
        if (_bytes != null)
        {
            ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = null;
        }
    }

    /// <summary>Reads up to <paramref name="length"/> bytes from the file's position; fewer when it ends first.</summary>
    internal static int ReadAll(FileStream file, byte[] bytes, int length)
    {
        int total = 0, read;
        while (total < length && (read = file.Read(bytes, total, length - total)) > 0)
        {
            total += read;
        }
        return total;
    }

    /// <summary>Whether the first <paramref name="length"/> bytes end with CRLF.</summary>
    internal static bool EndsWithCrLf(byte[] bytes, int length) => length >= 2 && bytes[length - 2] == '\r' && bytes[length - 1] == '\n';

    /// <summary>Whether a file (of at least two bytes) ends with CRLF; moves the file's position.</summary>
    internal static bool EndsWithCrLf(FileStream file)
    {
        file.Seek(-2, SeekOrigin.End);
        return file.ReadByte() == '\r' && file.ReadByte() == '\n';
    }
}
