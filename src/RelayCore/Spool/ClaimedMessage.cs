// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Text;

namespace RelayCore.Spool;

/// <summary>
/// A message this process claimed for forwarding (its envelope renamed to <c>.envelope.busy</c>):
/// until settled, no other forwarder or cmdlet touches it.
/// </summary>
/// <remarks>
/// Settle it exactly once: <see cref="Complete"/> after the next hop accepted it,
/// <see cref="MarkBad"/> when it failed for good, <see cref="Release"/> to try again later.
/// Disposing an unsettled claim releases it.
/// </remarks>
public sealed class ClaimedMessage : IDisposable
{
    private readonly SpoolDirectory _spool;
    private bool _settled;

    internal ClaimedMessage(SpoolDirectory spool, RelayMessage message)
    {
        _spool = spool;
        Message = message;
    }

    /// <summary>The claimed message, read after the claim (state <see cref="RelayMessageState.Busy"/>).</summary>
    public RelayMessage Message { get; }

    /// <summary>Whether the claim was completed, marked bad or released.</summary>
    public bool IsSettled => _settled;

    /// <summary>Deletes the forwarded message: its envelope first, then its content.</summary>
    /// <remarks>In that order a crash can leave only a content file with no envelope, which recovery removes.</remarks>
    /// <exception cref="SpoolFileInUseException">A file stayed open in another process.</exception>
    public void Complete()
    {
        Settle();
        ContendedFile.Delete(Message.EnvelopePath);
        ContendedFile.Delete(Message.ContentPath);
        HeldMessages.Release(_spool.Path, Message.Id);
    }

    /// <summary>
    /// Records a failure and moves the message to <c>.envelope.bad</c>: one
    /// <c>X-MailRelay-Reason</c> / <c>X-MailRelay-ReasonCode</c> pair is appended to the envelope,
    /// as E-MailRelay does, so the number of Reason lines counts the failures.
    /// </summary>
    /// <param name="reason">Why it failed; reduced to printable ASCII on one line.</param>
    /// <param name="reasonCode">The SMTP reply code that refused it, or null when there was none.</param>
    /// <returns>The message as it now is, in the Bad state.</returns>
    /// <exception cref="IOException">The envelope could not be written or renamed.</exception>
    public RelayMessage MarkBad(string reason, int? reasonCode)
    {
        Settle();
        string busyPath = Message.EnvelopePath;
        using (var envelope = new FileStream(busyPath, FileMode.Open, FileAccess.ReadWrite, FileShare.Read))
        {
            // Appended, not rewritten: whatever a filter put in the file stays byte for byte.
            var lines = new StringBuilder();
            if (envelope.Length > 0)
            {
                envelope.Seek(-1, SeekOrigin.End);
                if (envelope.ReadByte() != '\n')
                {
                    lines.Append("\r\n");
                }
            }
            foreach (string line in Envelope.FormatReason(reason, reasonCode))
            {
                lines.Append(line).Append("\r\n");
            }
            byte[] bytes = Encoding.UTF8.GetBytes(lines.ToString());
            envelope.Seek(0, SeekOrigin.End);
            envelope.Write(bytes, 0, bytes.Length);
            envelope.Flush(flushToDisk: true);
        }
        string badPath = Path.Combine(_spool.Path, SpoolDirectory.EnvelopeFileName(Message.Id, RelayMessageState.Bad));
        ContendedFile.TryMove(busyPath, badPath);
        HeldMessages.Release(_spool.Path, Message.Id);
        Message.Envelope.AddReason(reason, reasonCode);
        return new RelayMessage(_spool.Path, Message.Id, RelayMessageState.Bad, Message.Envelope, Message.Size, Message.Received);
    }

    /// <summary>Returns the message to ready (<c>.envelope.busy</c> to <c>.envelope</c>) for a later attempt.</summary>
    /// <exception cref="SpoolFileInUseException">The envelope stayed open in another process.</exception>
    public void Release()
    {
        Settle();
        ReleaseCore();
    }

    /// <summary>Releases the claim if it was not settled.</summary>
    public void Dispose()
    {
        if (!_settled)
        {
            _settled = true;
            ReleaseCore();
        }
    }

    private void ReleaseCore()
    {
        string readyPath = Path.Combine(_spool.Path, SpoolDirectory.EnvelopeFileName(Message.Id, RelayMessageState.Ready));
        ContendedFile.TryMove(Message.EnvelopePath, readyPath);
        HeldMessages.Release(_spool.Path, Message.Id);
    }

    private void Settle()
    {
        if (_settled)
        {
            throw new InvalidOperationException("The claim on '" + Message.Id + "' is settled already.");
        }
        _settled = true;
    }
}
