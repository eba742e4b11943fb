// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Text;

namespace RelayCore.Auth;

/// <summary>
/// An E-MailRelay secrets file: <c>&lt;client|server&gt; &lt;type&gt; &lt;id&gt; &lt;secret&gt; [&lt;selector&gt;]</c>
/// lines, <c>#</c> comments and blank lines.
/// </summary>
/// <remarks>
/// Types are <c>plain</c> (xtext id and secret), <c>plain:b</c> (base64), <c>md5</c> (key states
/// from emailrelay-passwd), <c>oauth</c> (client bearer token) and <c>none</c> (server trusted range).
/// </remarks>
public sealed class SecretsFile
{
    private readonly List<SecretEntry> _entries;
    private readonly List<(IPAddressRange Range, SecretEntry Entry)> _trusted;

    private SecretsFile(string source, List<SecretEntry> entries)
    {
        Source = source;
        _entries = entries;
        _trusted = entries.Where(e => e.Side == SecretSide.Server && e.Type == SecretType.None)
            .Select(e => (IPAddressRange.Parse(e.Id), e)).ToList();
    }

    /// <summary>The path or name the secrets were read from.</summary>
    public string Source { get; }

    /// <summary>Every line, in file order.</summary>
    public IReadOnlyList<SecretEntry> Entries => _entries;

    /// <summary>Reads a secrets file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The secrets.</returns>
    /// <exception cref="SecretsFormatException">A line cannot be read; the message names the line.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static SecretsFile Load(string path)
    {
        if (string.IsNullOrEmpty(path))
        {
            throw new ArgumentException("A secrets file path is required.", nameof(path));
        }
        return Parse(File.ReadAllText(path, Encoding.UTF8), path);
    }

    /// <summary>Parses secrets file text.</summary>
    /// <param name="text">The text.</param>
    /// <param name="source">A name for error messages, e.g. the path.</param>
    /// <returns>The secrets.</returns>
    /// <exception cref="SecretsFormatException">A line cannot be read; the message names the line.</exception>
    public static SecretsFile Parse(string text, string source)
    {
        if (text == null)
        {
            throw new ArgumentNullException(nameof(text));
        }
        source ??= "secrets";
        var entries = new List<SecretEntry>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int hash = line.IndexOf('#');
            if (hash >= 0)
            {
                line = line.Substring(0, hash);
            }
            string[] fields = line.Split(new[] { ' ', '\t', '\r' }, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 0)
            {
                entries.Add(ParseLine(fields, source, i + 1));
            }
        }
        return new SecretsFile(source, entries);
    }

    /// <summary>Finds the server account a client logs in as.</summary>
    /// <param name="id">The user id the client gave.</param>
    /// <returns>The entry, or null when there is no server account with that id.</returns>
    /// <remarks>A plain entry wins over an md5 entry for the same id, because it serves every mechanism.</remarks>
    public SecretEntry FindServerAccount(string id) =>
        _entries.Where(e => e.Side == SecretSide.Server && e.Type != SecretType.None && e.Type != SecretType.OAuth && e.Id == id)
            .OrderBy(e => e.HasPlainSecret ? 0 : 1)
            .FirstOrDefault();

    /// <summary>Finds the client account for forwarding.</summary>
    /// <param name="selector">The envelope's ClientAccountSelector; empty for the default account.</param>
    /// <returns>The first client line with that selector, or null.</returns>
    public SecretEntry FindClientAccount(string selector) =>
        _entries.FirstOrDefault(e => e.Side == SecretSide.Client && e.Selector == (selector ?? string.Empty));

    /// <summary>Finds the trusted range (a server <c>none</c> line) holding an address.</summary>
    /// <param name="address">The client's address.</param>
    /// <returns>The entry (its <see cref="SecretEntry.Secret"/> is the keyword), or null when the address is not trusted.</returns>
    public SecretEntry FindTrustedRange(IPAddress address)
    {
        foreach ((IPAddressRange range, SecretEntry entry) in _trusted)
        {
            if (range.Contains(address))
            {
                return entry;
            }
        }
        return null;
    }

    /// <summary>Whether any server account exists (so AUTH is worth advertising).</summary>
    public bool HasServerAccounts => _entries.Any(e => e.Side == SecretSide.Server && e.Type != SecretType.None && e.Type != SecretType.OAuth);

    private static SecretEntry ParseLine(string[] fields, string source, int lineNumber)
    {
        if (fields.Length < 4 || fields.Length > 5)
        {
            throw new SecretsFormatException(source, lineNumber, "expected '<client|server> <type> <id> <secret> [<selector>]', found " + fields.Length + " fields.");
        }
        SecretSide side = fields[0].ToLowerInvariant() switch
        {
            "client" => SecretSide.Client,
            "server" => SecretSide.Server,
            _ => throw new SecretsFormatException(source, lineNumber, "the first field must be 'client' or 'server', not '" + fields[0] + "'."),
        };
        string selector = fields.Length == 5 ? fields[4] : string.Empty;
        switch (fields[1].ToLowerInvariant())
        {
            case "plain":
                return new SecretEntry(side, SecretType.Plain, XText.Decode(fields[2]), XText.Decode(fields[3]), selector, lineNumber);
            case "plain:b":
                return new SecretEntry(side, SecretType.PlainBase64, DecodeBase64(fields[2], source, lineNumber, "id"), DecodeBase64(fields[3], source, lineNumber, "secret"), selector, lineNumber);
            case "md5":
                if (!EmailRelayPasswd.IsValidSecret(fields[3]))
                {
                    throw new SecretsFormatException(source, lineNumber, "an md5 secret must be the base64 of 32 bytes, as emailrelay-passwd prints it.");
                }
                return new SecretEntry(side, SecretType.Md5, XText.Decode(fields[2]), fields[3], selector, lineNumber);
            case "oauth":
                if (side != SecretSide.Client)
                {
                    throw new SecretsFormatException(source, lineNumber, "'oauth' is for client lines only.");
                }
                return new SecretEntry(side, SecretType.OAuth, XText.Decode(fields[2]), fields[3], selector, lineNumber);
            case "none":
                if (side != SecretSide.Server)
                {
                    throw new SecretsFormatException(source, lineNumber, "'none' (a trusted address range) is for server lines only.");
                }
                if (!IPAddressRange.TryParse(fields[2], out _))
                {
                    throw new SecretsFormatException(source, lineNumber, "'" + fields[2] + "' is not an IP address range (e.g. 192.168.0.*, 192.168.0.0/24, fe80::/64).");
                }
                return new SecretEntry(side, SecretType.None, fields[2], fields[3], selector, lineNumber);
            default:
                throw new SecretsFormatException(source, lineNumber, "unknown type '" + fields[1] + "' (expected plain, plain:b, md5, oauth or none).");
        }
    }

    private static string DecodeBase64(string text, string source, int lineNumber, string field)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(text));
        }
        catch (FormatException)
        {
            throw new SecretsFormatException(source, lineNumber, "the " + field + " of a 'plain:b' line must be base64.");
        }
    }
}
