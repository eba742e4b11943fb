// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using RelayCore.Spool;

namespace RelayCore.Submission;

/// <summary>
/// Puts a message straight into a spool, as <c>emailrelay-submit</c> does: no SMTP session, no
/// <c>Received:</c> header, client <c>127.0.0.1</c>, and the envelope recipients taken from the
/// caller or from the To, Cc and Bcc headers, the Bcc header being removed from the content.
/// </summary>
public static class MessageSubmitter
{
    /// <summary>The client address the envelope records for a local submission, as emailrelay-submit writes it.</summary>
    public const string LocalClient = "127.0.0.1";

    private const int ChunkSize = 16 * 1024;
    private const int MaxHeaderBytes = 1024 * 1024;
    private static readonly byte[] s_headerEnd = { (byte)'\r', (byte)'\n', (byte)'\r', (byte)'\n' };

    /// <summary>
    /// Submits an RFC 5322 message read from a stream. The bytes are kept as they are, except that
    /// bare LF line ends become CRLF and a Bcc header is removed.
    /// </summary>
    /// <param name="spool">The spool to submit to.</param>
    /// <param name="content">The message: headers, blank line, body.</param>
    /// <param name="envelopeFrom">The envelope sender; null to take it from the Sender or From header; empty for the null reverse-path.</param>
    /// <param name="envelopeTo">The envelope recipients; null or empty to take them from the To, Cc and Bcc headers.</param>
    /// <param name="cancellationToken">Cancels the submission; nothing is left in the spool.</param>
    /// <returns>The committed message.</returns>
    /// <exception cref="InvalidSubmissionException">No envelope sender or recipient could be found, or an address is unusable.</exception>
    /// <exception cref="IOException">The spool files could not be written.</exception>
    public static async Task<RelayMessage> SubmitAsync(SpoolDirectory spool, Stream content, string envelopeFrom, IReadOnlyCollection<string> envelopeTo, CancellationToken cancellationToken)
    {
        if (spool == null)
        {
            throw new ArgumentNullException(nameof(spool));
        }
        if (content == null)
        {
            throw new ArgumentNullException(nameof(content));
        }
        var normalizer = new CrlfNormalizer();
        var input = new byte[ChunkSize];
        var output = new byte[ChunkSize * 2];
        (byte[] header, byte[] bodyStart) = await ReadHeaderAsync(content, normalizer, input, output, cancellationToken).ConfigureAwait(false);
        List<HeaderField> fields = HeaderField.Split(header);
        (string from, List<string> to) = ResolveEnvelope(fields.Select(field => (field.Name, field.RawValue)), envelopeFrom, envelopeTo);

        using IncomingMessage incoming = spool.CreateMessage();
        FillEnvelope(incoming.Envelope, from, to);
        foreach (HeaderField field in fields.Where(field => !IsBcc(field.Name)))
        {
            await incoming.Content.WriteAsync(field.Bytes, 0, field.Bytes.Length, cancellationToken).ConfigureAwait(false);
        }
        await incoming.Content.WriteAsync(bodyStart, 0, bodyStart.Length, cancellationToken).ConfigureAwait(false);
        int read;
        while ((read = await content.ReadAsync(input, 0, input.Length, cancellationToken).ConfigureAwait(false)) > 0)
        {
            int written = normalizer.Normalize(input, read, output);
            await incoming.Content.WriteAsync(output, 0, written, cancellationToken).ConfigureAwait(false);
        }
        return await incoming.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Submits a MimeKit message, written with CRLF line ends and without its Bcc header; the
    /// message object itself is not changed.
    /// </summary>
    /// <param name="spool">The spool to submit to.</param>
    /// <param name="message">The message.</param>
    /// <param name="envelopeFrom">The envelope sender; null to take it from the Sender or From header; empty for the null reverse-path.</param>
    /// <param name="envelopeTo">The envelope recipients; null or empty to take them from the To, Cc and Bcc headers.</param>
    /// <param name="cancellationToken">Cancels the submission; nothing is left in the spool.</param>
    /// <returns>The committed message.</returns>
    /// <exception cref="InvalidSubmissionException">No envelope sender or recipient could be found, or an address is unusable.</exception>
    /// <exception cref="IOException">The spool files could not be written.</exception>
    public static async Task<RelayMessage> SubmitAsync(SpoolDirectory spool, MimeMessage message, string envelopeFrom, IReadOnlyCollection<string> envelopeTo, CancellationToken cancellationToken)
    {
        if (spool == null)
        {
            throw new ArgumentNullException(nameof(spool));
        }
        if (message == null)
        {
            throw new ArgumentNullException(nameof(message));
        }
        FormatOptions format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        format.HiddenHeaders.Add(HeaderId.Bcc);

        (string from, List<string> to) = ResolveEnvelope(message.Headers.Select(header => (header.Field, header.RawValue)), envelopeFrom, envelopeTo);

        using IncomingMessage incoming = spool.CreateMessage();
        FillEnvelope(incoming.Envelope, from, to);
        await message.WriteToAsync(format, incoming.Content, cancellationToken).ConfigureAwait(false);
        return await incoming.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The envelope sender and recipients: as given, else from the headers; checked before any file is made.</summary>
    private static (string From, List<string> To) ResolveEnvelope(IEnumerable<(string Name, byte[] RawValue)> headers, string envelopeFrom, IReadOnlyCollection<string> envelopeTo)
    {
        var parsed = headers
            .Where(header => IsAddressHeader(header.Name))
            .Select(header => (Name: header.Name.ToLowerInvariant(), Mailboxes: ParseMailboxes(header.Name, header.RawValue)))
            .ToList();

        string from = envelopeFrom != null
            ? CheckAddress(envelopeFrom, allowEmpty: true)
            : FirstMailbox(parsed, "sender") ?? FirstMailbox(parsed, "from")
              ?? throw new InvalidSubmissionException("The message has no From or Sender header: give the envelope sender.");
        List<string> to = envelopeTo != null && envelopeTo.Count > 0
            ? envelopeTo.Select(address => CheckAddress(address, allowEmpty: false)).ToList()
            : parsed.Where(header => header.Name is "to" or "cc" or "bcc").SelectMany(header => header.Mailboxes).ToList();
        to = to.Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (to.Count == 0)
        {
            throw new InvalidSubmissionException("The message has no recipients: give the envelope recipients or To, Cc or Bcc headers.");
        }
        return (from, to);
    }

    private static void FillEnvelope(Envelope envelope, string from, List<string> to)
    {
        envelope.From = from;
        envelope.ToRemote.AddRange(to);
        envelope.Client = LocalClient;
        envelope.Utf8MailboxNames = to.Append(from).Any(address => address.Any(c => c > '~'));
    }

    private static string FirstMailbox(List<(string Name, List<string> Mailboxes)> headers, string name) =>
        headers.Where(header => header.Name == name).SelectMany(header => header.Mailboxes).FirstOrDefault();

    private static List<string> ParseMailboxes(string name, byte[] rawValue)
    {
        if (!InternetAddressList.TryParse(ParserOptions.Default, rawValue, out InternetAddressList list))
        {
            throw new InvalidSubmissionException("The " + name + " header is not a list of addresses: '" + Encoding.UTF8.GetString(rawValue).Trim() + "'.");
        }
        return list.Mailboxes.Select(mailbox => mailbox.Address).ToList();
    }

    private static string CheckAddress(string address, bool allowEmpty)
    {
        string trimmed = address.Trim();
        if (trimmed.StartsWith("<", StringComparison.Ordinal) && trimmed.EndsWith(">", StringComparison.Ordinal))
        {
            trimmed = trimmed.Substring(1, trimmed.Length - 2);
        }
        if (trimmed.Length == 0 ? !allowEmpty : !MailboxAddress.TryParse(trimmed, out _) || trimmed.Any(c => c < '!' || c == '<' || c == '>'))
        {
            throw new InvalidSubmissionException("'" + address + "' is not an envelope address.");
        }
        return trimmed;
    }

    private static bool IsAddressHeader(string name) =>
        name.Equals("From", StringComparison.OrdinalIgnoreCase) || name.Equals("Sender", StringComparison.OrdinalIgnoreCase) ||
        name.Equals("To", StringComparison.OrdinalIgnoreCase) || name.Equals("Cc", StringComparison.OrdinalIgnoreCase) || IsBcc(name);

    private static bool IsBcc(string name) => name.Equals("Bcc", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads (normalised) up to the blank line that ends the header; returns the header and the body bytes read with it.</summary>
    private static async Task<(byte[] Header, byte[] BodyStart)> ReadHeaderAsync(Stream content, CrlfNormalizer normalizer, byte[] input, byte[] output, CancellationToken cancellationToken)
    {
        using var header = new MemoryStream();
        int read;
        while ((read = await content.ReadAsync(input, 0, input.Length, cancellationToken).ConfigureAwait(false)) > 0)
        {
            header.Write(output, 0, normalizer.Normalize(input, read, output));
            byte[] bytes = header.GetBuffer();
            int end = FindHeaderEnd(bytes, (int)header.Length, Math.Max(0, (int)header.Length - read * 2 - s_headerEnd.Length));
            if (end >= 0)
            {
                return (Slice(bytes, 0, end), Slice(bytes, end, (int)header.Length - end));
            }
            if (header.Length > MaxHeaderBytes)
            {
                throw new InvalidSubmissionException("The message header is longer than " + MaxHeaderBytes + " bytes, or the text is not a message.");
            }
        }
        // A message that is all header: the header ends where the text does.
        return (header.ToArray(), Array.Empty<byte>());
    }

    /// <summary>The length of the header including its last line's CRLF, or -1 before the blank line is seen.</summary>
    private static int FindHeaderEnd(byte[] bytes, int length, int from)
    {
        if (length >= 2 && bytes[0] == '\r' && bytes[1] == '\n')
        {
            return 0;
        }
        for (int i = from; i + s_headerEnd.Length <= length; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i + 2;
            }
        }
        return -1;
    }

    private static byte[] Slice(byte[] bytes, int offset, int count)
    {
        var slice = new byte[count];
        Buffer.BlockCopy(bytes, offset, slice, 0, count);
        return slice;
    }
}
