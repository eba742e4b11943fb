// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace RelayCore.Spool;

/// <summary>
/// An E-MailRelay spool directory: one content file and one envelope file per message, the
/// envelope's name suffix giving its state. Several processes may share one directory.
/// </summary>
/// <remarks>
/// Every state change is one rename, and whoever's rename succeeds owns the result, so
/// processes need no other lock. A crash at any instant leaves files that <see cref="Recover()"/>
/// turns back into a consistent spool without losing committed mail.
/// </remarks>
public sealed class SpoolDirectory
{
    /// <summary>The content file's suffix.</summary>
    public const string ContentSuffix = ".content";

    /// <summary>The ready envelope file's suffix; the other states add to it.</summary>
    public const string EnvelopeSuffix = ".envelope";

    /// <summary>How long <see cref="Recover()"/> leaves a receipt or claim of another live process alone.</summary>
    public static readonly TimeSpan DefaultStaleAge = TimeSpan.FromMinutes(10);

    private const int IdCollisionAttempts = 100;

    private static readonly (string Suffix, RelayMessageState State)[] s_envelopeSuffixes =
    {
        (EnvelopeSuffix, RelayMessageState.Ready),
        (EnvelopeSuffix + ".new", RelayMessageState.New),
        (EnvelopeSuffix + ".busy", RelayMessageState.Busy),
        (EnvelopeSuffix + ".bad", RelayMessageState.Bad),
    };

    private static readonly (string Suffix, RelayMessageState State)[] s_longestSuffixFirst =
        s_envelopeSuffixes.OrderByDescending(entry => entry.Suffix.Length).ToArray();

    private SpoolDirectory(string path) => Path = path;

    /// <summary>The spool directory's full path.</summary>
    public string Path { get; }

    /// <summary>
    /// The platform's default spool directory: <c>%ProgramData%\Relay\spool</c> on Windows;
    /// elsewhere <c>/var/spool/relay</c> when this user may write it (or create it), else
    /// <c>~/.local/share/relay/spool</c>.
    /// </summary>
    /// <remarks>
    /// The machine-wide spool serves a service account or root, the profile one a user's trial
    /// run, so both work unconfigured. Reading the property creates no directory.
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
            return CanWrite(SystemSpool)
                ? SystemSpool
                : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share", "relay", "spool");
        }
    }

    internal DurableCommitter Committer => DurableCommitter.For(Path);

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
        string fullPath = System.IO.Path.GetFullPath(path).TrimEnd(System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar);
        if (fullPath.Length == 0 || fullPath.EndsWith(":", StringComparison.Ordinal))
        {
            fullPath += System.IO.Path.DirectorySeparatorChar;
        }
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
    public IncomingMessage CreateMessage()
    {
        for (int attempt = 1; ; attempt++)
        {
            string id = MessageIdGenerator.Next();
            try
            {
                return new IncomingMessage(this, id);
            }
            catch (IOException) when (attempt < IdCollisionAttempts && IdIsTaken(id))
            {
                // Another process with our pid (another container on a shared volume) took it: next one.
            }
        }
    }

    /// <summary>Lists the messages, optionally only some ids (wildcards allowed) and states.</summary>
    /// <param name="idPatterns">Ids or wildcard patterns (<c>*</c>, <c>?</c>); null or empty for all.</param>
    /// <param name="states">States to include; null or empty for all.</param>
    /// <returns>The messages, oldest first. Envelopes that cannot be parsed are skipped.</returns>
    public IEnumerable<RelayMessage> Find(IReadOnlyCollection<string> idPatterns, IReadOnlyCollection<RelayMessageState> states)
    {
        var matchers = (idPatterns ?? Array.Empty<string>()).Select(IdPattern.Create).ToList();
        var found = new List<(string Id, RelayMessageState State)>();
        foreach (string envelopePath in Directory.EnumerateFiles(Path, MessageIdGenerator.Prefix + "*" + EnvelopeSuffix + "*"))
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
            found.Add((id, state));
        }
        found.Sort((a, b) => MessageIdGenerator.Compare(a.Id, b.Id));
        foreach ((string id, RelayMessageState state) in found)
        {
            RelayMessage message = TryRead(id, state, skipInvalid: true);
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
    /// <exception cref="InvalidDataException">The envelope is not an E-MailRelay envelope.</exception>
    public RelayMessage Get(string id)
    {
        foreach ((string _, RelayMessageState state) in s_envelopeSuffixes)
        {
            RelayMessage message = TryRead(id, state, skipInvalid: false);
            if (message != null)
            {
                return message;
            }
        }
        throw new RelayMessageNotFoundException(id, Path);
    }

    /// <summary>
    /// Claims a ready message for forwarding by renaming its envelope to <c>.envelope.busy</c>;
    /// of several processes claiming at once exactly one succeeds.
    /// </summary>
    /// <param name="message">A message read in the <see cref="RelayMessageState.Ready"/> state.</param>
    /// <returns>The claim, holding the envelope as read after the claim; null when another process claimed, removed or changed the message first.</returns>
    /// <exception cref="InvalidOperationException">The message was not read in the Ready state.</exception>
    /// <exception cref="SpoolFileInUseException">The envelope stayed open in another process.</exception>
    public ClaimedMessage TryClaim(RelayMessage message)
    {
        RequireState(message, RelayMessageState.Ready);
        string busyPath = PathOf(message.Id, RelayMessageState.Busy);
        // Held, locked and stamped before the rename: recovery, here or in another process, must
        // never find the .busy file unlocked while its claimer lives, and judges other claims by
        // their write time, which a rename keeps.
        HeldMessages.Hold(Path, message.Id);
        ClaimLock claimLock = null;
        bool claimed = false;
        try
        {
            claimLock = ClaimLock.TryAcquire(message.EnvelopePath);
            claimed = claimLock != null && claimLock.TryStamp() && ContendedFile.TryMove(message.EnvelopePath, busyPath);
        }
        finally
        {
            if (!claimed)
            {
                claimLock?.Dispose();
                HeldMessages.Release(Path, message.Id);
            }
        }
        if (!claimed)
        {
            return null;
        }
        try
        {
            // Read through the lock's handle: the file as renamed, whatever edited it before the claim.
            var busy = new RelayMessage(Path, message.Id, RelayMessageState.Busy, claimLock.ReadEnvelope(), message.Size, message.Received);
            return new ClaimedMessage(this, busy, claimLock);
        }
        catch (InvalidDataException error)
        {
            // A filter or a person broke the envelope: fail it visibly rather than retry it for ever.
            var broken = new RelayMessage(Path, message.Id, RelayMessageState.Busy, new Envelope(), message.Size, message.Received);
            new ClaimedMessage(this, broken, claimLock).MarkBad("invalid envelope: " + error.Message, null);
            return null;
        }
        catch
        {
            // Unreadable for now: back to ready, lock and hold let go.
            new ClaimedMessage(this, new RelayMessage(Path, message.Id, RelayMessageState.Busy, new Envelope(), message.Size, message.Received), claimLock).Dispose();
            throw;
        }
    }

    /// <summary>
    /// Deletes a message's envelope and content files. The envelope is first claimed by rename,
    /// so a forwarder and a removal racing for the message cannot both have it, and it is deleted
    /// before the content, so no crash leaves an envelope without its content.
    /// </summary>
    /// <param name="message">The message, read in the Ready or Bad state.</param>
    /// <exception cref="RelayMessageBusyException">The message is being received or forwarded, or changed state since it was read.</exception>
    /// <exception cref="SpoolFileInUseException">A file stayed open in another process.</exception>
    public void Remove(RelayMessage message)
    {
        if (message == null)
        {
            throw new ArgumentNullException(nameof(message));
        }
        if (message.State == RelayMessageState.Busy || message.State == RelayMessageState.New)
        {
            throw new RelayMessageBusyException(message);
        }
        string busyPath = PathOf(message.Id, RelayMessageState.Busy);
        if (!ContendedFile.TryMove(message.EnvelopePath, busyPath))
        {
            throw new RelayMessageBusyException(message, new FileNotFoundException("The envelope was renamed by another process.", message.EnvelopePath));
        }
        ContendedFile.Delete(busyPath);
        ContendedFile.Delete(message.ContentPath);
    }

    /// <summary>Returns a failed message to ready (<c>.envelope.bad</c> to <c>.envelope</c>), keeping its reasons.</summary>
    /// <param name="message">A message in the <see cref="RelayMessageState.Bad"/> state.</param>
    /// <returns>The message as it now is.</returns>
    /// <exception cref="InvalidOperationException">The message is not in the Bad state.</exception>
    /// <exception cref="RelayMessageBusyException">The message changed state since it was read.</exception>
    public RelayMessage ResetBad(RelayMessage message)
    {
        TryResetBad(message, int.MaxValue, out RelayMessage reset);
        return reset;
    }

    /// <summary>
    /// Returns a failed message to ready unless it has failed <paramref name="maxRetries"/> times
    /// or more, counting its Reason lines as emailrelay-resubmit does.
    /// </summary>
    /// <param name="message">A message in the <see cref="RelayMessageState.Bad"/> state.</param>
    /// <param name="maxRetries">Failures at which a message is left bad (emailrelay-resubmit uses 5); <see cref="int.MaxValue"/> for no limit.</param>
    /// <param name="reset">The message as it now is, in the Ready state; null when it was left bad.</param>
    /// <returns>True when reset; false when its <see cref="RelayMessage.RetryCount"/> reached <paramref name="maxRetries"/>.</returns>
    /// <exception cref="InvalidOperationException">The message is not in the Bad state.</exception>
    /// <exception cref="RelayMessageBusyException">The message changed state since it was read.</exception>
    /// <exception cref="SpoolFileInUseException">The envelope stayed open in another process.</exception>
    public bool TryResetBad(RelayMessage message, int maxRetries, out RelayMessage reset)
    {
        RequireState(message, RelayMessageState.Bad);
        if (maxRetries < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxRetries), maxRetries, "The retry limit cannot be negative.");
        }
        reset = null;
        if (message.RetryCount >= maxRetries)
        {
            return false;
        }
        if (!ContendedFile.TryMove(message.EnvelopePath, PathOf(message.Id, RelayMessageState.Ready)))
        {
            throw new RelayMessageBusyException(message, new FileNotFoundException("The envelope was renamed by another process.", message.EnvelopePath));
        }
        reset = new RelayMessage(Path, message.Id, RelayMessageState.Ready, message.Envelope, message.Size, message.Received);
        return true;
    }

    /// <summary>Repairs what a crash left, leaving alone what live processes are still doing; see <see cref="Recover(TimeSpan)"/>.</summary>
    /// <returns>How many claimed messages were returned to ready, and how many incomplete receipts and orphaned content files were removed.</returns>
    public (int Returned, int Removed) Recover() => Recover(DefaultStaleAge);

    /// <summary>
    /// Repairs what a crash left: stale <c>.envelope.busy</c> files return to ready, stale
    /// incomplete receipts (<c>.envelope.new</c>) are deleted with their content, and content
    /// files without any envelope are deleted.
    /// </summary>
    /// <remarks>
    /// Several processes may share the spool, so only what no live process is using counts as
    /// stale. Anything this process is receiving or has claimed is never touched. A receipt is
    /// stale when the process id in its message id is not running (or is this process, which
    /// does not hold it), or when neither of its files was written for <paramref name="staleAge"/>
    /// (the id's pid may have been reused). A Relay claim is abandoned as soon as no process holds
    /// its lock (its claimer died: see the claim lock a claimer keeps for as long as it holds a
    /// message); a claim that cannot be judged that way (E-MailRelay's, or where .NET file locking
    /// is switched off) is stale when it was made <paramref name="staleAge"/> ago or more, so that
    /// age must exceed the longest forwarding attempt. A server that has the spool to itself may
    /// pass <see cref="TimeSpan.Zero"/>.
    /// </remarks>
    /// <param name="staleAge">How long another process's receipt or claim may go untouched before it counts as abandoned.</param>
    /// <returns>How many claimed messages were returned to ready, and how many incomplete receipts and orphaned content files were removed.</returns>
    public (int Returned, int Removed) Recover(TimeSpan staleAge)
    {
        int returned = 0, removed = 0;
        DateTime now = DateTime.UtcNow;
        var livePids = new Dictionary<int, bool>();
        var withEnvelope = new HashSet<string>(StringComparer.Ordinal);
        foreach (string envelopePath in Directory.EnumerateFiles(Path, MessageIdGenerator.Prefix + "*" + EnvelopeSuffix + "*").ToList())
        {
            if (!TryParseEnvelopeName(System.IO.Path.GetFileName(envelopePath), out string id, out RelayMessageState state))
            {
                continue;
            }
            withEnvelope.Add(id);
            if (HeldMessages.IsHeld(Path, id))
            {
                continue;
            }
            string contentPath = System.IO.Path.Combine(Path, id + ContentSuffix);
            if (state == RelayMessageState.Busy && IsAbandonedClaim(envelopePath, now - staleAge))
            {
                if (ContendedFile.TryMove(envelopePath, PathOf(id, RelayMessageState.Ready)))
                {
                    returned++;
                }
            }
            // Seen unheld and still there: not a receipt of this process, which holds each one from before
            // its files exist until after its commit rename (one committed since the listing is gone by now).
            else if (state == RelayMessageState.New && File.Exists(envelopePath) && IsAbandonedReceipt(id, envelopePath, contentPath, now - staleAge, livePids))
            {
                ContendedFile.Delete(envelopePath);
                ContendedFile.Delete(contentPath);
                removed++;
            }
        }
        foreach (string contentPath in Directory.EnumerateFiles(Path, MessageIdGenerator.Prefix + "*" + ContentSuffix).ToList())
        {
            string id = System.IO.Path.GetFileName(contentPath);
            id = id.Substring(0, id.Length - ContentSuffix.Length);
            // Re-checked on disk: a receipt may have started since the envelopes were listed. Twice,
            // because the envelope's names are probed one after another and another process's
            // rename (bad or busy to ready) can slip between two probes of one pass.
            if (!withEnvelope.Contains(id) && !HeldMessages.IsHeld(Path, id) && !HasEnvelope(id) &&
                now - File.GetLastWriteTimeUtc(contentPath) >= staleAge && !HasEnvelope(id))
            {
                ContendedFile.Delete(contentPath);
                removed++;
            }
        }
        return (returned, removed);
    }

    private static bool IsAbandonedClaim(string busyPath, DateTime staleBefore) => ClaimLock.Test(busyPath) switch
    {
        ClaimLock.Probe.Abandoned => true,
        ClaimLock.Probe.Unknown => File.GetLastWriteTimeUtc(busyPath) <= staleBefore,
        _ => false,
    };

    private static bool IsAbandonedReceipt(string id, string envelopePath, string contentPath, DateTime staleBefore, Dictionary<int, bool> livePids)
    {
        if (MessageIdGenerator.TryGetProcessId(id, out int pid) && !IsRunningElsewhere(pid, livePids))
        {
            return true;
        }
        DateTime lastWrite = File.GetLastWriteTimeUtc(envelopePath);
        if (File.Exists(contentPath))
        {
            DateTime contentWrite = File.GetLastWriteTimeUtc(contentPath);
            lastWrite = contentWrite > lastWrite ? contentWrite : lastWrite;
        }
        return lastWrite <= staleBefore;
    }

    private static bool IsRunningElsewhere(int pid, Dictionary<int, bool> livePids)
    {
        if (pid == MessageIdGenerator.ProcessId)
        {
            // This process holds what it is receiving; an unheld receipt with our pid is a predecessor's.
            return false;
        }
        if (!livePids.TryGetValue(pid, out bool running))
        {
            try
            {
                using Process process = Process.GetProcessById(pid);
                running = !process.HasExited;
            }
            catch (ArgumentException)
            {
                running = false;
            }
            catch (InvalidOperationException)
            {
                running = false;
            }
            livePids[pid] = running;
        }
        return running;
    }

    private bool HasEnvelope(string id) => s_envelopeSuffixes.Any(entry => File.Exists(PathOf(id, entry.State)));

    private bool IdIsTaken(string id) => File.Exists(System.IO.Path.Combine(Path, id + ContentSuffix)) || HasEnvelope(id);

    private string PathOf(string id, RelayMessageState state) => System.IO.Path.Combine(Path, EnvelopeFileName(id, state));

    private static void RequireState(RelayMessage message, RelayMessageState state)
    {
        if (message == null)
        {
            throw new ArgumentNullException(nameof(message));
        }
        if (message.State != state)
        {
            throw new InvalidOperationException("The message '" + message.Id + "' is " + message.State + ", not " + state + ".");
        }
    }

    private RelayMessage TryRead(string id, RelayMessageState state, bool skipInvalid)
    {
        string envelopePath = PathOf(id, state);
        Envelope envelope;
        try
        {
            // Unbuffered: the reader's own buffer is the only one.
            using var stream = new FileStream(envelopePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1);
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
        catch (InvalidDataException) when (skipInvalid)
        {
            return null;
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
        foreach ((string suffix, RelayMessageState candidate) in s_longestSuffixFirst)
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

    private static bool CanWrite(string directory)
    {
        // The nearest folder that exists decides, so that asking creates nothing (-WhatIf).
        string existing = directory;
        while (existing != null && !Directory.Exists(existing))
        {
            existing = System.IO.Path.GetDirectoryName(existing);
        }
        if (existing == null)
        {
            return false;
        }
        // Trying is the only portable test: permission bits, ACLs and read-only mounts all count.
        string probe = System.IO.Path.Combine(existing, ".relay-probe-" + Guid.NewGuid().ToString("N"));
        try
        {
            File.WriteAllBytes(probe, Array.Empty<byte>());
            File.Delete(probe);
            return true;
        }
        catch (Exception error) when (error is IOException || error is UnauthorizedAccessException)
        {
            return false;
        }
    }
}
