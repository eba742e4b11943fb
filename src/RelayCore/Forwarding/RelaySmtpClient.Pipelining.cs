// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Net.Smtp;
using RelayCore.Spool;

namespace RelayCore.Forwarding;

/// <summary>
/// Relay's own transaction for next hops that offer PIPELINING, on connections whose bytes it can reach:
/// the whole command group in one write, its replies read together.
/// </summary>
/// <remarks>
/// <para>MailKit waits for DATA's 354 before it sends the content, which costs a third round trip per
/// message. RFC 2920 section 3.1 allows DATA (and RFC 3030 section 4 BDAT) as the last command of a
/// pipelined group, so a message is at most two round trips: MAIL, every RCPT and DATA, then the content
/// with its end. With CHUNKING and one recipient, or forward-to-some, it is one: MAIL, RCPT, BDAT LAST and
/// the content in one write (a next hop with no accepted recipient refuses the BDAT and discards the chunk).</para>
/// <para>All recipients or none: with several recipients and a refusal among them the message must reach
/// none. Over BDAT the content goes as a chunk without LAST, and RSET discards it; over DATA the 354
/// may already have come when the refusal is read, and a "." would deliver to the accepted ones, so the
/// connection is closed instead: a next hop discards a transaction whose data never ended (RFC 5321
/// section 3.8), and the next message opens a new connection.</para>
/// </remarks>
internal sealed partial class RelaySmtpClient
{
    private SmtpReplyReader _replies;
    private SmtpCommandWriter _commands;

    /// <summary>Whether the next transaction can be Relay's own: the next hop pipelines and the plaintext of the connection is at hand.</summary>
    private bool CanPipeline => _plainStream != null && (Capabilities & SmtpCapabilities.Pipelining) != 0;

    private async Task<TransferReport> TransferPipelinedAsync(
        IReadOnlyList<string> recipients,
        string from,
        MessageBodyType bodyType,
        bool international,
        SpooledContentFile content,
        bool forwardToSome,
        CancellationToken cancellationToken)
    {
        _replies ??= new SmtpReplyReader(Transcript, ResponseTimeout);
        _commands ??= new SmtpCommandWriter(Transcript, ResponseTimeout);
        bool chunking = (Capabilities & SmtpCapabilities.Chunking) != 0;
        bool lastInGroup = chunking && (forwardToSome || recipients.Count == 1);
        Stream stream = _plainStream;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // The reader and writer set the deadline before each wait; one that runs out closes the connection, which ends the wait on every target framework.
        using CancellationTokenRegistration abort = deadline.Token.Register(state => ((RelaySmtpClient)state).Close(abandoned: false), this);
        try
        {
            await _commands.AppendCommandAsync(stream, MailCommand(from, content.Length, bodyType, international), deadline).ConfigureAwait(false);
            foreach (string recipient in recipients)
            {
                await _commands.AppendCommandAsync(stream, "RCPT TO:<" + recipient + ">", deadline).ConfigureAwait(false);
            }
            if (chunking)
            {
                string size = content.Length.ToString(CultureInfo.InvariantCulture);
                await _commands.AppendCommandAsync(stream, "BDAT " + size + (lastInGroup ? " LAST" : string.Empty), deadline).ConfigureAwait(false);
                await content.CopyToAsync(_commands, stream, dotStuff: false, deadline).ConfigureAwait(false);
            }
            else
            {
                await _commands.AppendCommandAsync(stream, "DATA", deadline).ConfigureAwait(false);
            }
            await _commands.FlushAsync(stream, deadline).ConfigureAwait(false);

            (int Code, string Text) mail = await _replies.ReadAsync(stream, deadline).ConfigureAwait(false);
            var accepted = new List<string>(recipients.Count);
            var rejected = new List<RecipientRejection>();
            foreach (string recipient in recipients)
            {
                (int code, string text) = await _replies.ReadAsync(stream, deadline).ConfigureAwait(false);
                if (IsPositive(code))
                {
                    accepted.Add(recipient);
                }
                else if (IsPositive(mail.Code))
                {
                    rejected.Add(new RecipientRejection(recipient, code, text));
                }
            }
            (int Code, string Text) data = await _replies.ReadAsync(stream, deadline).ConfigureAwait(false);

            TransferReport refusal = EnvelopeRefusal(mail, accepted, rejected, forwardToSome);
            if (refusal != null || mail.Code == 421 || data.Code == 421)
            {
                return await EndRefusedAsync(refusal ?? TransferReport.Refused(421, data.Text, accepted, rejected), data.Code, deadline).ConfigureAwait(false);
            }
            if (chunking && !lastInGroup)
            {
                if (!IsPositive(data.Code))
                {
                    return await EndRefusedAsync(TransferReport.Refused(data.Code, data.Text, accepted, rejected), data.Code, deadline).ConfigureAwait(false);
                }
                await _commands.AppendCommandAsync(stream, "BDAT 0 LAST", deadline).ConfigureAwait(false);
                await _commands.FlushAsync(stream, deadline).ConfigureAwait(false);
                data = await _replies.ReadAsync(stream, deadline).ConfigureAwait(false);
            }
            else if (!chunking)
            {
                if (data.Code != 354)
                {
                    return await EndRefusedAsync(TransferReport.Refused(data.Code, data.Text, accepted, rejected), data.Code, deadline).ConfigureAwait(false);
                }
                await content.CopyToAsync(_commands, stream, dotStuff: true, deadline).ConfigureAwait(false);
                await _commands.AppendCommandAsync(stream, ".", deadline).ConfigureAwait(false);
                await _commands.FlushAsync(stream, deadline).ConfigureAwait(false);
                data = await _replies.ReadAsync(stream, deadline).ConfigureAwait(false);
            }
            if (data.Code == 421)
            {
                Close(abandoned: false);
            }
            // After the reply to the end of the data the transaction is over either way (RFC 5321 section 4.1.1.4): no RSET.
            return IsPositive(data.Code)
                ? TransferReport.Sent(data.Code, data.Text, accepted, rejected)
                : TransferReport.Refused(data.Code, data.Text, accepted, rejected);
        }
        catch (Exception error) when (!(error is ServiceNotAuthenticatedException))
        {
            // A transaction cut short leaves the session in an unknown state: it is never used again.
            Close(abandoned: false);
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            if (deadline.IsCancellationRequested)
            {
                throw new TimeoutException("The next hop " + NextHop + " did not answer within " + ResponseTimeout.TotalSeconds + " s.", error);
            }
            if (error is ObjectDisposedException || error is SocketException)
            {
                throw new IOException("The connection to " + NextHop + " broke: " + error.Message, error);
            }
            throw;
        }
        finally
        {
            if (_replies.HasUnreadInput && IsConnected)
            {
                // More replies than commands: the next hop is out of step with this client, so the session is not used again.
                Close(abandoned: true);
            }
        }
    }

    /// <summary>The refusal that MAIL FROM or the RCPTs decide, or null when the transaction may go on.</summary>
    /// <exception cref="ServiceNotAuthenticatedException">MAIL FROM was answered 530: the next hop wants AUTH, for every message.</exception>
    private static TransferReport EnvelopeRefusal((int Code, string Text) mail, List<string> accepted, List<RecipientRejection> rejected, bool forwardToSome)
    {
        if (!IsPositive(mail.Code))
        {
            if (mail.Code == (int)SmtpStatusCode.AuthenticationRequired)
            {
                throw new ServiceNotAuthenticatedException(mail.Text);
            }
            return TransferReport.Refused(mail.Code, mail.Text, Array.Empty<string>(), Array.Empty<RecipientRejection>());
        }
        if (rejected.Count == 0 || (forwardToSome && accepted.Count > 0))
        {
            return null;
        }
        // Pipelined RCPTs are answered together; a permanent refusal decides over a transient one.
        RecipientRejection decisive = rejected.Find(rejection => rejection.Code >= 500) ?? rejected[0];
        return TransferReport.Refused(decisive.Code, decisive.Text, accepted, rejected);
    }

    /// <summary>Ends a refused transaction so the connection can carry the next one: RSET, or closing it when the next hop waits for data that must not end.</summary>
    private async Task<TransferReport> EndRefusedAsync(TransferReport refusal, int dataReplyCode, CancellationTokenSource deadline)
    {
        if (refusal.ReplyCode == 421 || dataReplyCode == 421)
        {
            // The next hop is closing the session (RFC 5321 section 3.8): the route waits.
            Close(abandoned: false);
            return refusal;
        }
        if (dataReplyCode == 354)
        {
            Close(abandoned: true);
            return refusal;
        }
        int code;
        try
        {
            await _commands.AppendCommandAsync(_plainStream, "RSET", deadline).ConfigureAwait(false);
            await _commands.FlushAsync(_plainStream, deadline).ConfigureAwait(false);
            (code, _) = await _replies.ReadAsync(_plainStream, deadline).ConfigureAwait(false);
        }
        catch (Exception error) when (error is IOException || error is SocketException || error is ObjectDisposedException ||
            error is SmtpProtocolException || error is OperationCanceledException)
        {
            // The refusal was the next hop's verdict on the message; a connection lost while cleaning up after it does not undo it.
            Close(abandoned: false);
            return refusal;
        }
        if (!IsPositive(code))
        {
            // A session that refuses RSET is in no state to trust; the next message gets a new one.
            Close(abandoned: true);
        }
        return refusal;
    }

    /// <summary>MAIL FROM with the parameters MailKit would send: SIZE= when offered, BODY= from the envelope, SMTPUTF8 for UTF-8 mailboxes.</summary>
    private string MailCommand(string from, long size, MessageBodyType bodyType, bool international)
    {
        var command = new StringBuilder("MAIL FROM:<", 64).Append(from).Append('>');
        if (international && (Capabilities & SmtpCapabilities.UTF8) != 0)
        {
            command.Append(" SMTPUTF8");
        }
        if ((Capabilities & SmtpCapabilities.Size) != 0)
        {
            command.Append(" SIZE=").Append(size.ToString(CultureInfo.InvariantCulture));
        }
        if (bodyType == MessageBodyType.BinaryMime)
        {
            command.Append(" BODY=BINARYMIME");
        }
        else if (bodyType == MessageBodyType.EightBitMime && (Capabilities & SmtpCapabilities.EightBitMime) != 0)
        {
            command.Append(" BODY=8BITMIME");
        }
        return command.ToString();
    }

    private static bool IsPositive(int code) => code >= 200 && code < 300;

    private TimeSpan ResponseTimeout => TimeSpan.FromMilliseconds(Timeout);

    private void DisposePipelining()
    {
        _replies?.Dispose();
        _commands?.Dispose();
    }
}
