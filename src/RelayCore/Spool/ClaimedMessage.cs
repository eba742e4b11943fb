// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
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
    private readonly ClaimLock _lock;
    private bool _settled;

    internal ClaimedMessage(SpoolDirectory spool, RelayMessage message, ClaimLock claimLock)
    {
        _spool = spool;
        Message = message;
        _lock = claimLock;
    }

    /// <summary>The claimed message, read after the claim (state <see cref="RelayMessageState.Busy"/>).</summary>
    public RelayMessage Message { get; }

    /// <summary>Whether the claim was completed, marked bad or released.</summary>
    public bool IsSettled => _settled;

    /// <summary>Deletes the forwarded message: its envelope first, then its content.</summary>
    /// <remarks>In that order a crash can leave only a content file with no envelope, which recovery removes.</remarks>
    /// <exception cref="SpoolFileInUseException">A file stayed open in another process.</exception>
    public void Complete() => CompleteLater()();

    /// <summary>
    /// Settles the claim as forwarded now, deleting its envelope, and returns the rest to do (deleting the content,
    /// letting go of the claim), so that it can wait on the disk on another thread.
    /// </summary>
    /// <remarks>
    /// The envelope goes at once, so a crash from here on can never send the message again; it is cheap, since
    /// the claim still holds the file open: the file system frees it (a disk wait where freed blocks are
    /// discarded synchronously) when the claim lets go. Until then the content is held, so no recovery removes it;
    /// after a crash it is an orphan that recovery removes.
    /// </remarks>
    /// <returns>The rest of <see cref="Complete"/>; run it once.</returns>
    /// <exception cref="SpoolFileInUseException">The envelope stayed open in another process.</exception>
    internal Action CompleteLater()
    {
        Settle();
        ContendedFile.Delete(Message.EnvelopePath);
        return () =>
        {
            ContendedFile.Delete(Message.ContentPath);
            Unhold();
        };
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
        using (var envelope = new FileStream(busyPath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
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
        ContendedFile.TryMove(busyPath, PathOf(RelayMessageState.Bad));
        Unhold();
        Message.Envelope.AddReason(reason, reasonCode);
        return new RelayMessage(_spool.Path, Message.Id, RelayMessageState.Bad, Message.Envelope, Message.Size, Message.Received);
    }

    /// <summary>
    /// Settles a message the next hop accepted for some recipients only (E-MailRelay's
    /// --forward-to-some): what stays is a <c>.envelope.bad</c> message, with the same content,
    /// addressed to the refused recipients alone, with the reason appended.
    /// </summary>
    /// <remarks>
    /// The new envelope is written beside the claim, made durable and renamed over it, then the claim
    /// is renamed to bad: a crash between the two leaves a claim for the refused recipients only,
    /// which recovery retries, so no accepted recipient is ever sent the message twice.
    /// </remarks>
    /// <param name="refused">The envelope recipients the next hop refused.</param>
    /// <param name="reason">Why they were refused; reduced to printable ASCII on one line.</param>
    /// <param name="reasonCode">The SMTP reply code that refused them, or null.</param>
    /// <returns>The message as it now is, in the Bad state.</returns>
    /// <exception cref="IOException">The envelope could not be written or renamed.</exception>
    public RelayMessage CompleteForSome(IReadOnlyCollection<string> refused, string reason, int? reasonCode)
    {
        if (refused == null)
        {
            throw new ArgumentNullException(nameof(refused));
        }
        Settle();
        var remaining = new HashSet<string>(refused, StringComparer.Ordinal);
        Envelope envelope = Message.Envelope;
        envelope.ToRemote.RemoveAll(to => !remaining.Contains(to));
        envelope.AddReason(reason, reasonCode);
        string busyPath = Message.EnvelopePath;
        string replacement = busyPath + ".tmp";
        using (var file = new FileStream(replacement, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            envelope.WriteTo(file);
            file.Flush(flushToDisk: true);
        }
        FileDurability.Replace(replacement, busyPath);
        ContendedFile.TryMove(busyPath, PathOf(RelayMessageState.Bad));
        Unhold();
        return new RelayMessage(_spool.Path, Message.Id, RelayMessageState.Bad, envelope, Message.Size, Message.Received);
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
        ContendedFile.TryMove(Message.EnvelopePath, PathOf(RelayMessageState.Ready));
        Unhold();
    }

    private string PathOf(RelayMessageState state) => Path.Combine(_spool.Path, SpoolDirectory.EnvelopeFileName(Message.Id, state));

    /// <summary>After the last rename or delete: the lock and the in-process hold go together.</summary>
    private void Unhold()
    {
        _lock?.Dispose();
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
