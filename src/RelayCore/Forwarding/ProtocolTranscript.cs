// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using MailKit;
using RelayCore.Hosting;

namespace RelayCore.Forwarding;

/// <summary>
/// MailKit's protocol logger for one forwarding or POP session: writes each line at Debug with AUTH
/// secrets masked, and, while a session is being opened, keeps the lines with their times so a failure
/// can be pinned to its step (greeting, EHLO, STARTTLS, AUTH) and the probe can report per-step times.
/// </summary>
internal sealed class ProtocolTranscript : IProtocolLogger
{
    private const int MaxRecordedLines = 400;
    private const string Mask = "********";

    private static readonly string[] s_commands =
    {
        "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "QUIT",
        "CAPA", "STLS", "USER", "PASS", "APOP", "STAT",
    };

    private readonly Action<RelayLogLevel, string> _log;
    private readonly bool _logLines;
    private readonly string _prefix;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<TranscriptLine> _lines = new List<TranscriptLine>();
    private string _clientPending = string.Empty;
    private string _serverPending = string.Empty;
    private int _skipServerBytes;

    internal ProtocolTranscript(Action<RelayLogLevel, string> log, RelayLogLevel level, string prefix)
    {
        _log = log;
        _logLines = log != null && level <= RelayLogLevel.Debug;
        _prefix = prefix ?? string.Empty;
        IsRecording = true;
    }

    /// <inheritdoc/>
    public IAuthenticationSecretDetector AuthenticationSecretDetector { get; set; }

    /// <summary>Whether lines are kept (while the session is opened); logging at Debug goes on regardless.</summary>
    internal bool IsRecording { get; set; }

    /// <summary>The lines kept so far.</summary>
    internal IReadOnlyList<TranscriptLine> Lines => _lines;

    /// <summary>The command word of the last command the client sent (EHLO, STARTTLS, AUTH...), or null before the first.</summary>
    internal string LastCommand { get; private set; }

    /// <summary>Whether the server has said anything yet.</summary>
    internal bool HasServerSpoken { get; private set; }

    /// <summary>Time since the transcript was made.</summary>
    internal TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Splits a reply line into its code and text; no code when the line does not start with three digits.</summary>
    internal static (int? Code, string Text) ParseReply(string line)
    {
        if (line.Length >= 3 && int.TryParse(line.Substring(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int code))
        {
            return (code, line.Length > 4 ? line.Substring(4) : string.Empty);
        }
        return (null, line);
    }

    /// <inheritdoc/>
    public void LogConnect(Uri uri)
    {
        if (_logLines)
        {
            _log(RelayLogLevel.Debug, _prefix + "connected to " + uri);
        }
    }

    /// <inheritdoc/>
    public void LogClient(byte[] buffer, int offset, int count)
    {
        if (!IsRecording && !_logLines)
        {
            return;
        }
        string text = Redact(buffer, offset, count);
        if (IsRecording)
        {
            LastCommand = CommandWord(text);
        }
        Record(true, text);
    }

    /// <summary>Leaves the next <paramref name="count"/> bytes from the server out: the greeting replayed to MailKit after STARTTLS, already logged when it came.</summary>
    internal void SkipServerBytes(int count) => _skipServerBytes = count;

    /// <inheritdoc/>
    public void LogServer(byte[] buffer, int offset, int count)
    {
        if (_skipServerBytes > 0)
        {
            int skipped = Math.Min(count, _skipServerBytes);
            _skipServerBytes -= skipped;
            offset += skipped;
            count -= skipped;
        }
        if (count == 0 || (!IsRecording && !_logLines))
        {
            return;
        }
        HasServerSpoken = true;
        Record(false, Encoding.UTF8.GetString(buffer, offset, count));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private void Record(bool fromClient, string text)
    {
        // A read can end inside a line: keep the fragment until its end arrives.
        ref string pending = ref fromClient ? ref _clientPending : ref _serverPending;
        text = pending + text;
        int end = text.LastIndexOf('\n') + 1;
        pending = text.Substring(end);
        foreach (string line in text.Substring(0, end).Split(new[] { "\r\n", "\n" }, StringSplitOptions.RemoveEmptyEntries))
        {
            if (IsRecording && _lines.Count < MaxRecordedLines)
            {
                _lines.Add(new TranscriptLine(_clock.Elapsed, fromClient, line));
            }
            if (_logLines)
            {
                _log(RelayLogLevel.Debug, _prefix + (fromClient ? "C: " : "S: ") + line);
            }
        }
    }

    private string Redact(byte[] buffer, int offset, int count)
    {
        IList<AuthenticationSecret> secrets = AuthenticationSecretDetector?.DetectSecrets(buffer, offset, count);
        if (secrets == null || secrets.Count == 0)
        {
            return Encoding.UTF8.GetString(buffer, offset, count);
        }
        var text = new StringBuilder(count);
        int position = offset;
        foreach (AuthenticationSecret secret in secrets)
        {
            text.Append(Encoding.UTF8.GetString(buffer, position, secret.StartIndex - position)).Append(Mask);
            position = secret.StartIndex + secret.Length;
        }
        return text.Append(Encoding.UTF8.GetString(buffer, position, offset + count - position)).ToString();
    }

    private string CommandWord(string text)
    {
        int end = 0;
        while (end < text.Length && char.IsLetter(text[end]))
        {
            end++;
        }
        string word = text.Substring(0, end).ToUpperInvariant();
        // Anything else is a SASL continuation (base64), still part of AUTH, or message content.
        return Array.IndexOf(s_commands, word) >= 0 ? word : LastCommand;
    }
}
