// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using RelayCore.Spool;

namespace RelayCore.Forwarding;

/// <summary>
/// The body of the <see cref="MimeMessage"/> MailKit is given to send: with <see cref="SpooledHeaderBlock"/>
/// it writes the spooled content file's bytes as they are, so nothing on MailKit's path parses,
/// re-encodes or re-folds the message.
/// </summary>
/// <remarks>
/// MimeMessage.WriteTo is not virtual. It writes the message's headers, a blank line, then calls the
/// body's virtual WriteTo with contentOnly: true. So the file is split where MIME splits it: the header
/// block goes out as one opaque header (MimeKit writes an invalid header's raw bytes and nothing else),
/// MimeKit's blank line stands for the file's own, and this body writes the rest from the file. A file
/// without a blank line is all header block bar its last line end, which MimeKit's blank line then
/// supplies. The entity's own Content-Type and Content-Transfer-Encoding exist only because MailKit
/// chooses MAIL FROM's BODY= parameter by walking the MIME parts' transfer encodings; they are hidden by
/// <see cref="CreateFormatOptions"/> so they are never written. The content file is CRLF and not
/// dot-stuffed: MailKit's DATA path stuffs it once (its SmtpDataFilter), BDAT sends it as it is.
/// </remarks>
internal sealed class SpooledContent : MimePart
{
    /// <summary>Files up to this size are read once, whole, and sent from memory; larger ones are streamed.</summary>
    private const int ScanBufferSize = 8 * 1024;
    private static readonly byte[] s_crlf = { (byte)'\r', (byte)'\n' };

    private static readonly FormatOptions s_ascii = CreateFormatOptions(international: false);
    private static readonly FormatOptions s_international = CreateFormatOptions(international: true);

    private readonly FileStream _file;
    private readonly byte[] _bytes;
    private readonly long _bodyOffset;
    private readonly long _bodyLength;
    private readonly bool _appendNewLine;

    private SpooledContent(FileStream file, byte[] bytes, long bodyOffset, long bodyLength, bool appendNewLine, ContentEncoding marker)
        : base("application", "x-relay-spooled")
    {
        _file = file;
        _bytes = bytes;
        _bodyOffset = bodyOffset;
        _bodyLength = bodyLength;
        _appendNewLine = appendNewLine;
        ContentTransferEncoding = marker;
    }

    /// <summary>The bytes the whole message writes: the file, plus a CRLF when the file lacks a final one (SMTP data must end with a line end).</summary>
    internal long Length { get; private set; }

    /// <summary>Wraps a spooled content file in a message MailKit can send unchanged.</summary>
    /// <param name="contentPath">The content file.</param>
    /// <param name="bodyType">The BODY= declaration to make: 8BITMIME and BINARYMIME mark the part so MailKit names them.</param>
    /// <returns>A message whose only header is the file's header block and whose body is the rest of the file; dispose it.</returns>
    /// <exception cref="FileNotFoundException">The content file is missing.</exception>
    internal static MimeMessage CreateMessage(string contentPath, MessageBodyType bodyType)
    {
        FileStream file = new FileStream(contentPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
        byte[] bytes = null;
        try
        {
            long fileLength = file.Length;
            byte[] headerBlock;
            long bodyOffset;
            bool endsWithNewLine;
            if (fileLength <= SpooledContentFile.InMemoryLimit)
            {
                // Small (the usual case): one read, and the file is closed before sending.
                bytes = ArrayPool<byte>.Shared.Rent((int)Math.Max(fileLength, 1));
                fileLength = SpooledContentFile.ReadAll(file, bytes, (int)fileLength);
                file.Dispose();
                file = null;
                endsWithNewLine = SpooledContentFile.EndsWithCrLf(bytes, (int)fileLength);
                (headerBlock, bodyOffset) = SplitHeaderBlock(bytes, (int)fileLength, endsWithNewLine);
            }
            else
            {
                endsWithNewLine = SpooledContentFile.EndsWithCrLf(file);
                file.Position = 0;
                (headerBlock, bodyOffset) = ReadHeaderBlock(file, fileLength, endsWithNewLine);
            }
            // Without a blank line the body is empty and MimeKit's blank line is the missing line end.
            bool appendNewLine = !endsWithNewLine && bodyOffset < fileLength;
            var body = new SpooledContent(file, bytes, bodyOffset, fileLength - bodyOffset, appendNewLine, Marker(bodyType))
            {
                Length = fileLength + (endsWithNewLine ? 0 : s_crlf.Length),
            };
            file = null;
            bytes = null;
            return new MimeMessage((IEnumerable<Header>)(headerBlock.Length == 0 ? Array.Empty<Header>() : new Header[] { new SpooledHeaderBlock(headerBlock) }))
            {
                Body = body,
            };
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

    /// <summary>The format options to send with: the MIME structure's own headers hidden (MailKit copies them per message).</summary>
    /// <param name="international">Whether the envelope's mailboxes are UTF-8 (SMTPUTF8).</param>
    /// <returns>The options.</returns>
    internal static FormatOptions FormatOptionsFor(bool international) => international ? s_international : s_ascii;

    /// <inheritdoc/>
    public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
    {
        // The spooled bytes are final: no re-encoding to fit a constraint.
    }

    /// <inheritdoc/>
    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        if (_bytes != null)
        {
            stream.Write(_bytes, (int)_bodyOffset, (int)_bodyLength);
        }
        else
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(SpooledContentFile.CopyBufferSize);
            try
            {
                _file.Position = _bodyOffset;
                long left = _bodyLength;
                int read;
                while (left > 0 && (read = _file.Read(buffer, 0, (int)Math.Min(buffer.Length, left))) > 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    stream.Write(buffer, 0, read);
                    left -= read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        if (_appendNewLine)
        {
            stream.Write(s_crlf, 0, s_crlf.Length);
        }
    }

    /// <inheritdoc/>
    public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        if (_bytes != null)
        {
            // One write: a small message reaches the socket in one piece.
            await stream.WriteAsync(_bytes, (int)_bodyOffset, (int)_bodyLength, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(SpooledContentFile.CopyBufferSize);
            try
            {
                _file.Position = _bodyOffset;
                long left = _bodyLength;
                int read;
                while (left > 0 && (read = await _file.ReadAsync(buffer, 0, (int)Math.Min(buffer.Length, left), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    await stream.WriteAsync(buffer, 0, read, cancellationToken).ConfigureAwait(false);
                    left -= read;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        if (_appendNewLine)
        {
            await stream.WriteAsync(s_crlf, 0, s_crlf.Length, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _file?.Dispose();
            if (_bytes != null)
            {
                ArrayPool<byte>.Shared.Return(_bytes);
            }
        }
        base.Dispose(disposing);
    }

    private static FormatOptions CreateFormatOptions(bool international)
    {
        FormatOptions options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        options.International = international;
        options.HiddenHeaders.Add(HeaderId.ContentType);
        options.HiddenHeaders.Add(HeaderId.ContentTransferEncoding);
        options.HiddenHeaders.Add(HeaderId.MimeVersion);
        return options;
    }

    /// <summary>
    /// The bytes before the blank line that ends the header block (each header line with its CRLF),
    /// and where the body starts after that blank line; without a blank line, the whole file bar
    /// its final CRLF.
    /// </summary>
    private static (byte[] HeaderBlock, long BodyOffset) SplitHeaderBlock(byte[] bytes, int length, bool endsWithNewLine)
    {
        int end = FindBlankLine(bytes, 0, length);
        if (end >= 0)
        {
            byte[] header = new byte[end];
            Array.Copy(bytes, header, end);
            return (header, end + 2);
        }
        byte[] whole = new byte[endsWithNewLine ? length - 2 : length];
        Array.Copy(bytes, whole, whole.Length);
        return (whole, length);
    }

    /// <summary>Like <see cref="SplitHeaderBlock"/>, reading the file (a large one) until the blank line.</summary>
    private static (byte[] HeaderBlock, long BodyOffset) ReadHeaderBlock(FileStream file, long fileLength, bool endsWithNewLine)
    {
        using var block = new MemoryStream();
        byte[] buffer = new byte[ScanBufferSize];
        int read;
        while ((read = file.Read(buffer, 0, buffer.Length)) > 0)
        {
            int scanFrom = (int)Math.Max(0, block.Length - 3);
            block.Write(buffer, 0, read);
            int end = FindBlankLine(block.GetBuffer(), scanFrom, (int)block.Length);
            if (end >= 0)
            {
                byte[] header = new byte[end];
                Array.Copy(block.GetBuffer(), header, end);
                return (header, end + 2);
            }
        }
        byte[] whole = block.ToArray();
        if (endsWithNewLine)
        {
            Array.Resize(ref whole, whole.Length - 2);
        }
        return (whole, fileLength);
    }

    /// <summary>
    /// Where the header block ends: the index of the CRLF that is the blank line (0 when the content
    /// starts with it, else just after the last header line's CRLF); -1 when there is none.
    /// </summary>
    private static int FindBlankLine(byte[] bytes, int from, int length)
    {
        if (from == 0 && length >= 2 && bytes[0] == '\r' && bytes[1] == '\n')
        {
            return 0;
        }
        for (int i = from; i + 3 < length; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i + 2;
            }
        }
        return -1;
    }

    private static ContentEncoding Marker(MessageBodyType bodyType) => bodyType switch
    {
        MessageBodyType.EightBitMime => ContentEncoding.EightBit,
        MessageBodyType.BinaryMime => ContentEncoding.Binary,
        _ => ContentEncoding.SevenBit,
    };
}
