// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using MailKit.Net.Smtp;
using MimeKit;
using RelayCore.Spool;

namespace RelayCore.Forwarding;

/// <summary>The forwarding half of the client: one spooled message per SMTP transaction, its bytes as they are.</summary>
/// <remarks>
/// To a next hop that offers PIPELINING the transaction is Relay's own (RelaySmtpClient.Pipelining.cs),
/// in every TLS mode and through SOCKS, since the connection and its TLS are Relay's; to one that does
/// not, MailKit drives the transaction (SIZE, BDAT when CHUNKING is offered, RSET after a refusal), and
/// these overrides keep it from touching the content and record each recipient's answer.
/// BODY= comes from the envelope's Content field: 8BITMIME and BINARYMIME are declared when the next
/// hop offers them. A next hop without 8BITMIME still gets 8-bit content, undeclared, as E-MailRelay
/// sends it by default; binary content to a hop without BINARYMIME goes as 8BITMIME over DATA. UTF-8
/// mailbox names need SMTPUTF8: without it the message fails here, since no reply would change that.
/// </remarks>
internal sealed partial class RelaySmtpClient : SmtpClient
{
    private List<string> _accepted;
    private List<RecipientRejection> _rejected;
    private List<(MailboxAddress Mailbox, string Address)> _addresses;
    private bool _acceptSome;

    /// <summary>BDAT whenever the next hop offers CHUNKING: no dot-stuffing, and the size is known.</summary>
    protected override bool PreferSendAsBinaryData => (Capabilities & SmtpCapabilities.Chunking) != 0;

    /// <summary>Sends one spooled message: MAIL FROM, RCPT TO for each remote recipient, its content unchanged.</summary>
    /// <param name="message">The claimed message.</param>
    /// <param name="envelopeFrom">The reverse-path to send instead of the envelope's (the one-account mode), or null.</param>
    /// <param name="forwardToSome">Whether to send to the accepted recipients when others are refused.</param>
    /// <param name="cancellationToken">Cancels the transaction; the connection is then unusable.</param>
    /// <returns>The outcome when the next hop answered; connection failures throw.</returns>
    /// <exception cref="System.IO.IOException">The connection broke.</exception>
    /// <exception cref="SmtpProtocolException">The next hop broke the protocol or closed the connection.</exception>
    internal async Task<TransferReport> TransferAsync(RelayMessage message, string envelopeFrom, bool forwardToSome, CancellationToken cancellationToken)
    {
        Envelope envelope = message.Envelope;
        string from = envelopeFrom ?? envelope.From;
        if (envelope.ToRemote.Count == 0)
        {
            return Refusal(null, "no remote recipients");
        }
        bool hasUtf8Names = !IsAscii(from) || envelope.ToRemote.Any(to => !IsAscii(to));
        if (hasUtf8Names && (Capabilities & SmtpCapabilities.UTF8) == 0)
        {
            return Refusal(null, "the next hop does not offer SMTPUTF8, which the UTF-8 mailbox names need");
        }

        MailboxAddress sender;
        _addresses = new List<(MailboxAddress, string)>(envelope.ToRemote.Count);
        try
        {
            sender = new MailboxAddress(string.Empty, from);
            foreach (string to in envelope.ToRemote)
            {
                _addresses.Add((new MailboxAddress(string.Empty, to), to));
            }
        }
        catch (ParseException error)
        {
            return Refusal(null, "invalid envelope address: " + error.Message);
        }

        MessageBodyType bodyType = envelope.BodyType;
        if (bodyType == MessageBodyType.BinaryMime && (Capabilities & SmtpCapabilities.BinaryMime) == 0)
        {
            bodyType = MessageBodyType.EightBitMime;
        }
        if (CanPipeline)
        {
            if (bodyType == MessageBodyType.BinaryMime && (Capabilities & SmtpCapabilities.Chunking) == 0)
            {
                // BINARYMIME needs BDAT (RFC 3030 section 3).
                bodyType = MessageBodyType.EightBitMime;
            }
            SpooledContentFile file;
            try
            {
                file = SpooledContentFile.Open(message.ContentPath);
            }
            catch (Exception error) when (error is FileNotFoundException || error is DirectoryNotFoundException)
            {
                return Refusal(null, "the content file is missing");
            }
            using (file)
            {
                return await TransferPipelinedAsync(envelope.ToRemote, from, bodyType, envelope.Utf8MailboxNames || hasUtf8Names, file, forwardToSome, cancellationToken).ConfigureAwait(false);
            }
        }
        _accepted = new List<string>(_addresses.Count);
        _rejected = new List<RecipientRejection>();
        _acceptSome = forwardToSome;
        MimeMessage content;
        try
        {
            content = SpooledContent.CreateMessage(message.ContentPath, bodyType);
        }
        catch (Exception error) when (error is FileNotFoundException || error is DirectoryNotFoundException)
        {
            // A broken message, not a broken connection: nothing was sent for it yet.
            return Refusal(null, "the content file is missing");
        }
        using MimeMessage mime = content;
        try
        {
            string reply = await SendAsync(
                SpooledContent.FormatOptionsFor(envelope.Utf8MailboxNames || hasUtf8Names),
                mime,
                sender,
                _addresses.Select(entry => entry.Mailbox),
                cancellationToken).ConfigureAwait(false);
            return TransferReport.Sent((int)SmtpStatusCode.Ok, reply, _accepted, _rejected);
        }
        catch (SmtpCommandException error)
        {
            int code = (int)error.StatusCode;
            if (error.ErrorCode == SmtpErrorCode.RecipientNotAccepted && _rejected.Any(rejection => rejection.Code >= 500))
            {
                // Pipelined RCPTs are answered together; a permanent refusal decides over a transient one.
                RecipientRejection permanent = _rejected.First(rejection => rejection.Code >= 500);
                return TransferReport.Refused(permanent.Code, permanent.Text, _accepted, _rejected);
            }
            return TransferReport.Refused(code, error.Message, _accepted, _rejected);
        }
        catch (NotSupportedException error)
        {
            return Refusal(null, error.Message);
        }
    }

    /// <inheritdoc/>
    protected override void Prepare(MimeKit.FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
        if (!(message.Body is SpooledContent))
        {
            base.Prepare(options, message, constraint, maxLineLength);
        }
    }

    /// <inheritdoc/>
    protected override long GetSize(MimeKit.FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
        message.Body is SpooledContent content ? content.Length : base.GetSize(options, message, cancellationToken);

    /// <inheritdoc/>
    protected override Task<long> GetSizeAsync(MimeKit.FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
        message.Body is SpooledContent content ? Task.FromResult(content.Length) : base.GetSizeAsync(options, message, cancellationToken);

    /// <inheritdoc/>
    protected override void OnRecipientAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
    {
        if (message.Body is SpooledContent)
        {
            _accepted.Add(EnvelopeAddress(mailbox));
        }
        base.OnRecipientAccepted(message, mailbox, response);
    }

    /// <inheritdoc/>
    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
    {
        if (message.Body is SpooledContent)
        {
            _rejected.Add(new RecipientRejection(EnvelopeAddress(mailbox), (int)response.StatusCode, response.Response));
            if (_acceptSome)
            {
                return;
            }
        }
        base.OnRecipientNotAccepted(message, mailbox, response);
    }

    /// <inheritdoc/>
    protected override void OnNoRecipientsAccepted(MimeMessage message)
    {
        if (message.Body is SpooledContent && _rejected.Count > 0)
        {
            RecipientRejection decisive = _rejected.FirstOrDefault(rejection => rejection.Code >= 500) ?? _rejected[0];
            throw new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, (SmtpStatusCode)decisive.Code, decisive.Text);
        }
        base.OnNoRecipientsAccepted(message);
    }

    private static TransferReport Refusal(int? code, string text) =>
        TransferReport.Refused(code, text, Array.Empty<string>(), Array.Empty<RecipientRejection>());

    private string EnvelopeAddress(MailboxAddress mailbox)
    {
        foreach ((MailboxAddress candidate, string address) in _addresses)
        {
            if (ReferenceEquals(candidate, mailbox))
            {
                return address;
            }
        }
        return mailbox.Address;
    }

    private static bool IsAscii(string text)
    {
        foreach (char c in text)
        {
            if (c > 0x7F)
            {
                return false;
            }
        }
        return true;
    }
}
