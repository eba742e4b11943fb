// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using MimeKit;
using RelayCore.Auth;

namespace RelayCore.Spool;

/// <summary>One message in a spool directory, as read from its envelope and content files.</summary>
/// <remarks>A snapshot: the files may change after it was read (another process may claim or forward it).</remarks>
public sealed class RelayMessage
{
    internal RelayMessage(string spoolPath, string id, RelayMessageState state, Envelope envelope, long size, DateTimeOffset received)
    {
        SpoolPath = spoolPath;
        Id = id;
        State = state;
        Envelope = envelope;
        Size = size;
        Received = received;
    }

    /// <summary>The message id: the common stem of the two file names.</summary>
    public string Id { get; }

    /// <summary>The state, from the envelope file's suffix.</summary>
    public RelayMessageState State { get; }

    /// <summary>The envelope sender; empty for the null reverse-path.</summary>
    public string From => Envelope.From;

    /// <summary>Every envelope recipient, local then remote.</summary>
    public string[] To => Envelope.ToLocal.Concat(Envelope.ToRemote).ToArray();

    /// <summary>The content file's size in bytes.</summary>
    public long Size { get; }

    /// <summary>When the message was received (from the id; the content file's time for other ids).</summary>
    public DateTimeOffset Received { get; }

    /// <summary>The submitting client's IP address.</summary>
    public string Client => Envelope.Client;

    /// <summary>The SMTP AUTH user the client logged in as; empty when none.</summary>
    public string AuthenticatedAs => XText.Decode(Envelope.Authentication);

    /// <summary>The latest failure reason, or null when it never failed.</summary>
    public string Reason => LastReason?.Text;

    /// <summary>The SMTP code of the latest failure, or null.</summary>
    public int? ReasonCode => LastReason?.Code;

    /// <summary>How many failures the envelope records (its Reason lines).</summary>
    public int RetryCount => Envelope.Reasons.Count;

    /// <summary>The next hop (<c>host:port</c>) that overrides the default for this message, or empty.</summary>
    public string ForwardToAddress => Envelope.ForwardToAddress;

    /// <summary>Selects the client account used to forward this message, or empty.</summary>
    public string ClientAccountSelector => Envelope.ClientAccountSelector;

    /// <summary>The full path of the envelope file, with its state suffix.</summary>
    public string EnvelopePath => Path.Combine(SpoolPath, SpoolDirectory.EnvelopeFileName(Id, State));

    /// <summary>The full path of the content file.</summary>
    public string ContentPath => Path.Combine(SpoolPath, Id + SpoolDirectory.ContentSuffix);

    /// <summary>The spool directory holding the message.</summary>
    public string SpoolPath { get; }

    /// <summary>The envelope as read.</summary>
    public Envelope Envelope { get; }

    private EnvelopeReason LastReason
    {
        get
        {
            IReadOnlyList<EnvelopeReason> reasons = Envelope.Reasons;
            return reasons.Count == 0 ? null : reasons[reasons.Count - 1];
        }
    }

    /// <summary>Parses the content file into a MimeKit message.</summary>
    /// <returns>The parsed message.</returns>
    /// <exception cref="FileNotFoundException">The content file is gone (forwarded or removed since).</exception>
    public MimeMessage GetMimeMessage()
    {
        using FileStream content = File.OpenRead(ContentPath);
        return MimeMessage.Load(content);
    }

    /// <inheritdoc/>
    public override string ToString() => Id;
}
