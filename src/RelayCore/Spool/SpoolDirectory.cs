// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading;

namespace RelayCore.Spool;

/// <summary>
/// An E-MailRelay spool directory: one content file and one envelope file per message, the
/// envelope's name suffix giving its state. Several processes may share one directory.
/// </summary>
/// <remarks>
/// Every state change is one rename, so a crash at any instant leaves files that
/// <see cref="Recover"/> turns back into a consistent spool without losing committed mail.
/// </remarks>
public sealed class SpoolDirectory
{
    /// <summary>The content file's suffix.</summary>
    public const string ContentSuffix = ".content";

    /// <summary>The ready envelope file's suffix; the other states add to it.</summary>
    public const string EnvelopeSuffix = ".envelope";

    private static readonly (string Suffix, RelayMessageState State)[] s_envelopeSuffixes =
    {
        (EnvelopeSuffix, RelayMessageState.Ready),
        (EnvelopeSuffix + ".new", RelayMessageState.New),
        (EnvelopeSuffix + ".busy", RelayMessageState.Busy),
        (EnvelopeSuffix + ".bad", RelayMessageState.Bad),
    };

    private readonly Lazy<DurableCommitter> _committer;

    private SpoolDirectory(string path)
    {
        Path = path;
        _committer = new Lazy<DurableCommitter>(() => new DurableCommitter(path), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>The spool directory's full path.</summary>
    public string Path { get; }

    /// <summary>
    /// The platform's default spool directory: <c>%ProgramData%\Relay\spool</c> on Windows;
    /// elsewhere <c>/var/spool/relay</c> when it exists, else <c>~/.local/share/relay/spool</c>.
    /// </summary>
    /// <remarks>
    /// A system-wide <c>/var/spool/relay</c> is used only when an administrator made it, so an
    /// unprivileged user's default stays in their home directory.
    /// </remarks>
    public static string DefaultPath
    {
        get
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.CommonApplicationData), "Relay", "spool");
            }
            const string SystemSpool = "/var/spool/relay";
            if (Directory.Exists(SystemSpool))
            {
                return SystemSpool;
            }
            string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return System.IO.Path.Combine(home, ".local", "share", "relay", "spool");
        }
    }

    internal DurableCommitter Committer => _committer.Value;

    /// <summary>Opens a spool directory, creating it when asked to.</summary>
    /// <param name="path">The directory.</param>
    /// <param name="create">Whether to create the directory when it does not exist.</param>
    /// <returns>The spool.</returns>
    /// <exception cref="DirectoryNotFoundException">The directory does not exist and <paramref name="create"/> is false.</exception>
    public static SpoolDirectory Open(string path, bool create)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new ArgumentException("A spool path is required.", nameof(path));
        }
        string fullPath = System.IO.Path.GetFullPath(path);
        if (!Directory.Exists(fullPath))
        {
            if (!create)
            {
                throw new DirectoryNotFoundException("The spool directory '" + fullPath + "' does not exist.");
            }
            Directory.CreateDirectory(fullPath);
        }
        return new SpoolDirectory(fullPath);
    }

    /// <summary>The envelope file name of a message in a state.</summary>
    /// <param name="id">The message id.</param>
    /// <param name="state">The state.</param>
    /// <returns>The file name, without a directory.</returns>
    public static string EnvelopeFileName(string id, RelayMessageState state) =>
        id + s_envelopeSuffixes.First(entry => entry.State == state).Suffix;

    /// <summary>Starts receiving a new message: creates its <c>.envelope.new</c> and content files.</summary>
    /// <returns>The message to write and commit.</returns>
    /// <exception cref="IOException">The files could not be created.</exception>
    public IncomingMessage CreateMessage() => new IncomingMessage(this, MessageIdGenerator.Next());

    /// <summary>Lists the messages, optionally only some ids (wildcards allowed) and states.</summary>
    /// <param name="idPatterns">Ids or wildcard patterns (<c>*</c>, <c>?</c>); null or empty for all.</param>
    /// <param name="states">States to include; null or empty for all.</param>
    /// <returns>The messages, oldest id first.</returns>
    public IEnumerable<RelayMessage> Find(IReadOnlyCollection<string> idPatterns, IReadOnlyCollection<RelayMessageState> states)
    {
        var matchers = (idPatterns ?? Array.Empty<string>()).Select(IdPattern.Create).ToList();
        foreach (string envelopePath in Directory.EnumerateFiles(Path, MessageIdGenerator.Prefix + "*" + EnvelopeSuffix + "*").OrderBy(p => p, StringComparer.Ordinal))
        {
            if (!TryParseEnvelopeName(System.IO.Path.GetFileName(envelopePath), out string id, out RelayMessageState state))
            {
                continue;
            }
            if ((states != null && states.Count > 0 && !states.Contains(state)) ||
                (matchers.Count > 0 && !matchers.Any(matcher => matcher.IsMatch(id))))
            {
                continue;
            }
            RelayMessage message = TryRead(id, state);
            if (message != null)
            {
                yield return message;
            }
        }
    }

    /// <summary>Reads one message by exact id, in whatever state it is.</summary>
    /// <param name="id">The message id.</param>
    /// <returns>The message.</returns>
    /// <exception cref="RelayMessageNotFoundException">No envelope with that id exists.</exception>
    public RelayMessage Get(string id)
    {
        foreach ((string _, RelayMessageState state) in s_envelopeSuffixes)
        {
            RelayMessage message = TryRead(id, state);
            if (message != null)
            {
                return message;
            }
        }
        throw new RelayMessageNotFoundException(id, Path);
    }

    /// <summary>Deletes a message's envelope and content files.</summary>
    /// <param name="message">The message, in the state it was read in.</param>
    /// <exception cref="RelayMessageBusyException">The message changed state since it was read (for example a forwarder claimed it).</exception>
    public void Remove(RelayMessage message)
    {
        if (message == null)
        {
            throw new ArgumentNullException(nameof(message));
        }
        // Renaming first makes the delete atomic against a forwarder's claim: whoever renames wins.
        string claimedPath = message.EnvelopePath + ".deleting";
        try
        {
            File.Move(message.EnvelopePath, claimedPath);
        }
        catch (FileNotFoundException error)
        {
            throw new RelayMessageBusyException(message, error);
        }
        File.Delete(message.ContentPath);
        File.Delete(claimedPath);
    }

    /// <summary>Returns a failed message to ready (<c>.envelope.bad</c> to <c>.envelope</c>), keeping its reasons.</summary>
    /// <param name="message">A message in the <see cref="RelayMessageState.Bad"/> state.</param>
    /// <returns>The message as it now is.</returns>
    /// <exception cref="InvalidOperationException">The message is not in the Bad state.</exception>
    /// <exception cref="RelayMessageBusyException">The message changed state since it was read.</exception>
    public RelayMessage ResetBad(RelayMessage message)
    {
        if (message == null)
        {
            throw new ArgumentNullException(nameof(message));
        }
        if (message.State != RelayMessageState.Bad)
        {
            throw new InvalidOperationException("The message '" + message.Id + "' is " + message.State + ", not Bad.");
        }
        string readyPath = System.IO.Path.Combine(Path, EnvelopeFileName(message.Id, RelayMessageState.Ready));
        try
        {
            File.Move(message.EnvelopePath, readyPath);
        }
        catch (FileNotFoundException error)
        {
            throw new RelayMessageBusyException(message, error);
        }
        return new RelayMessage(Path, message.Id, RelayMessageState.Ready, message.Envelope, message.Size, message.Received);
    }

    /// <summary>
    /// Repairs what a crash left: <c>.envelope.busy</c> files return to ready, and incomplete
    /// receipts (<c>.envelope.new</c>) are deleted with their content.
    /// </summary>
    /// <remarks>Call only when no other process is using the spool, e.g. at server start.</remarks>
    /// <returns>How many busy messages were returned and incomplete receipts removed.</returns>
    public (int Returned, int Removed) Recover()
    {
        int returned = 0, removed = 0;
        foreach (RelayMessage message in Find(null, new[] { RelayMessageState.Busy, RelayMessageState.New }).ToList())
        {
            if (message.State == RelayMessageState.Busy)
            {
                File.Move(message.EnvelopePath, System.IO.Path.Combine(Path, EnvelopeFileName(message.Id, RelayMessageState.Ready)));
                returned++;
            }
            else
            {
                File.Delete(message.ContentPath);
                File.Delete(message.EnvelopePath);
                removed++;
            }
        }
        return (returned, removed);
    }

    private RelayMessage TryRead(string id, RelayMessageState state)
    {
        string envelopePath = System.IO.Path.Combine(Path, EnvelopeFileName(id, state));
        Envelope envelope;
        try
        {
            using var stream = new FileStream(envelopePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            envelope = Envelope.Read(stream);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (InvalidDataException) when (state == RelayMessageState.New)
        {
            // Still being written by its receiver: the envelope is filled in at commit.
            envelope = new Envelope();
        }
        var content = new FileInfo(System.IO.Path.Combine(Path, id + ContentSuffix));
        long size = content.Exists ? content.Length : 0;
        DateTimeOffset received = MessageIdGenerator.TryGetTime(id, out DateTimeOffset time)
            ? time
            : content.Exists ? new DateTimeOffset(content.LastWriteTimeUtc) : DateTimeOffset.MinValue;
        return new RelayMessage(Path, id, state, envelope, size, received);
    }

    private static bool TryParseEnvelopeName(string fileName, out string id, out RelayMessageState state)
    {
        // Longest suffix first, so ".envelope.bad" is not taken for ".envelope".
        foreach ((string suffix, RelayMessageState candidate) in s_envelopeSuffixes.OrderByDescending(entry => entry.Suffix.Length))
        {
            if (fileName.EndsWith(suffix, StringComparison.Ordinal))
            {
                id = fileName.Substring(0, fileName.Length - suffix.Length);
                state = candidate;
                return true;
            }
        }
        id = null;
        state = default;
        return false;
    }
}
