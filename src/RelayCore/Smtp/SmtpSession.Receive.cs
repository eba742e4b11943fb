// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Auth;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.Spool;

namespace RelayCore.Smtp;

/// <summary>DATA and BDAT: streaming a message into the spool and committing it before the 250.</summary>
internal sealed partial class SmtpSession
{
    private async Task<bool> ReceiveDataAsync()
    {
        if (!await StartMessageAsync().ConfigureAwait(false))
        {
            return true;
        }
        Reply("354 Start mail input; end with <CRLF>.<CRLF>");
        _state = SmtpSessionState.Data;
        var unstuffer = new DotUnstuffer(_options.MaxLineLength);
        while (true)
        {
            if (_input.Buffered > 0)
            {
                bool isEnd = _input.TakeData(ref unstuffer, out int start, out int length);
                await WriteContentAsync(start, length).ConfigureAwait(false);
                if (unstuffer.IsLineTooLong)
                {
                    throw new SmtpLineTooLongException(_options.MaxLineLength);
                }
                if (isEnd)
                {
                    break;
                }
            }
            if (!await FillAsync(isIdle: false).ConfigureAwait(false))
            {
                return false;
            }
        }
        await FinishMessageAsync().ConfigureAwait(false);
        return true;
    }

    private async Task<bool> ReceiveChunkAsync()
    {
        // RFC 3030 section 2: a refused BDAT's octets are still read, so the stream stays in step.
        string refusal = _state == SmtpSessionState.Rcpt || _state == SmtpSessionState.Chunking ? null
            : _state == SmtpSessionState.Mail ? "503 5.5.1 No valid recipients"
            : "503 5.5.1 Send MAIL and RCPT first";
        if (refusal == null && _state == SmtpSessionState.Rcpt && !await StartMessageAsync().ConfigureAwait(false))
        {
            refusal = string.Empty;
        }
        if (refusal == null)
        {
            _state = SmtpSessionState.Chunking;
        }
        while (_chunkRemaining > 0)
        {
            if (_input.Buffered == 0 && !await FillAsync(isIdle: false).ConfigureAwait(false))
            {
                return false;
            }
            _input.TakeChunk(_chunkRemaining, out int start, out int length);
            _chunkRemaining -= length;
            if (refusal == null)
            {
                await WriteContentAsync(start, length).ConfigureAwait(false);
            }
        }
        if (refusal != null)
        {
            // An empty refusal was answered already (the spool could not take the message).
            return refusal.Length == 0 || Bad(refusal) != Next.Close || await CloseAfterReplyAsync().ConfigureAwait(false);
        }
        if (_isLastChunk)
        {
            await FinishMessageAsync().ConfigureAwait(false);
        }
        else
        {
            Reply("250 2.0.0 " + _messageBytes.ToString(CultureInfo.InvariantCulture) + " octets received");
        }
        return true;
    }

    private async Task<bool> CloseAfterReplyAsync()
    {
        await _output.FlushAsync(_stream, Token).ConfigureAwait(false);
        return false;
    }

    private async Task<bool> StartMessageAsync()
    {
        try
        {
            _message = _context.Spool.CreateMessage();
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            _context.Log(RelayLogLevel.Error, "cannot create a message in the spool: " + error.Message);
            _context.Counters.MessageRejected();
            ResetTransaction();
            Reply("452 4.3.1 Insufficient system storage");
            return false;
        }
        _messageBytes = 0;
        _isTooBig = false;
        if (!_options.Anonymous)
        {
            byte[] header = s_utf8.GetBytes(ReceivedHeader());
            await _message.Content.WriteAsync(header, 0, header.Length, Token).ConfigureAwait(false);
        }
        return true;
    }

    /// <summary>Stores text unless the message is already too big; past the limit the receipt is dropped at once.</summary>
    private async Task WriteContentAsync(int start, int length)
    {
        if (length == 0 || _isTooBig)
        {
            return;
        }
        if (_context.MaxMessageSize > 0 && _messageBytes + length > _context.MaxMessageSize)
        {
            _isTooBig = true;
            AbandonMessage();
            return;
        }
        _messageBytes += length;
        await _message.Content.WriteAsync(_input.Array, start, length, Token).ConfigureAwait(false);
    }

    private async Task FinishMessageAsync()
    {
        if (_isTooBig)
        {
            _context.Counters.MessageRejected();
            _context.Log(RelayLogLevel.Warning, ClientText + ": message over the size limit of " + _context.MaxMessageSize + " bytes refused");
            ResetTransaction();
            Reply("552 5.3.4 Message size exceeds fixed maximum message size");
            return;
        }
        Envelope envelope = _message.Envelope;
        envelope.From = _from ?? string.Empty;
        envelope.ToRemote.AddRange(_recipients);
        envelope.BodyType = _bodyType;
        envelope.Authentication = XText.Encode(_authenticatedUser);
        envelope.Client = ClientText;
        envelope.MailFromAuthIn = _mailFromAuth ?? string.Empty;
        envelope.Utf8MailboxNames = _isUtf8;
        ServerForwarding immediate = _context.ImmediateForwarding;
        // Registered before the commit makes it visible, so a spool pass that takes it first still reports here.
        Task<ForwardResult> forwarded = immediate?.Expect(_message.Id);
        RelayMessage committed;
        try
        {
            committed = await _message.CommitAsync(Token).ConfigureAwait(false);
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            immediate?.Forget(_message.Id);
            _context.Log(RelayLogLevel.Error, "cannot commit message " + _message.Id + ": " + error.Message);
            _context.Counters.MessageRejected();
            ResetTransaction();
            Reply("452 4.3.1 Insufficient system storage");
            return;
        }
        catch
        {
            immediate?.Forget(_message.Id);
            throw;
        }
        _message.Dispose();
        _message = null;
        RememberStored(committed);
        if (_context.IsLogging(RelayLogLevel.Information))
        {
            _context.Log(RelayLogLevel.Information, ClientText + ": stored " + committed.Id + " (" + committed.Size + " bytes, " + _recipients.Count + " recipients)");
        }
        ResetTransaction();
        string reply = "250 2.0.0 OK id=" + committed.Id;
        if (immediate != null)
        {
            // The client is waiting on the next hop now, not idle: the forward's own timeouts bound this wait.
            _deadline.CancelAfter(Timeout.InfiniteTimeSpan);
            reply = ImmediateReply(committed.Id, await immediate.ForwardNowAsync(committed, forwarded).ConfigureAwait(false));
        }
        if (reply[0] == '2')
        {
            _context.Counters.MessageAccepted(committed.Size);
        }
        else
        {
            _context.Counters.MessageRejected();
        }
        Reply(reply);
    }

    /// <summary>At the end of a session: a message still being received is dropped and counted as rejected.</summary>
    private void AbandonUnfinishedMessage()
    {
        if (_state == SmtpSessionState.Data || _state == SmtpSessionState.Chunking)
        {
            _context.Log(RelayLogLevel.Warning, ClientText + ": connection ended in the middle of a message; nothing stored");
            _context.Counters.MessageRejected();
        }
        AbandonMessage();
    }

    /// <summary>Drops an uncommitted receipt: disposing it deletes its files.</summary>
    private void AbandonMessage()
    {
        _message?.Dispose();
        _message = null;
    }

    private string ReceivedHeader()
    {
        string protocol = !_isExtended ? "SMTP" : "ESMTP" + (_isSecure ? "S" : string.Empty) + (_authenticatedUser != null ? "A" : string.Empty);
        DateTimeOffset now = DateTimeOffset.Now;
        TimeSpan offset = now.Offset;
        string zone = (offset < TimeSpan.Zero ? "-" : "+") + Math.Abs(offset.Hours).ToString("00", CultureInfo.InvariantCulture) + Math.Abs(offset.Minutes).ToString("00", CultureInfo.InvariantCulture);
        return "Received: from " + _heloName + " ([" + ClientText + "]) by " + _context.Domain + " with " + protocol + " ; " +
            now.ToString("ddd, dd MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture) + zone + "\r\n";
    }
}
