// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Auth;

/// <summary>One line of an E-MailRelay secrets file, with its id and secret decoded.</summary>
public sealed class SecretEntry
{
    /// <summary>Creates an entry.</summary>
    /// <param name="side">Client or server.</param>
    /// <param name="type">How the line was written.</param>
    /// <param name="id">The decoded user id, or for <see cref="SecretType.None"/> the address range text.</param>
    /// <param name="secret">The decoded password; the base64 key states for <see cref="SecretType.Md5"/>; the keyword for <see cref="SecretType.None"/>.</param>
    /// <param name="selector">The optional fifth field; empty when absent.</param>
    /// <param name="lineNumber">The 1-based line it came from; 0 when made in code.</param>
    public SecretEntry(SecretSide side, SecretType type, string id, string secret, string selector, int lineNumber)
    {
        Side = side;
        Type = type;
        Id = id ?? string.Empty;
        Secret = secret ?? string.Empty;
        Selector = selector ?? string.Empty;
        LineNumber = lineNumber;
    }

    /// <summary>Client or server.</summary>
    public SecretSide Side { get; }

    /// <summary>How the id and secret were written.</summary>
    public SecretType Type { get; }

    /// <summary>The user id (decoded), or the trusted address range for <see cref="SecretType.None"/>.</summary>
    public string Id { get; }

    /// <summary>The password (decoded); the base64 key states for md5; the keyword for none.</summary>
    public string Secret { get; }

    /// <summary>The fifth field, matched against an envelope's ClientAccountSelector; empty when absent.</summary>
    public string Selector { get; }

    /// <summary>The 1-based line number in the file; 0 when made in code.</summary>
    public int LineNumber { get; }

    /// <summary>Whether the entry holds a plain password, usable for PLAIN, LOGIN and CRAM-MD5.</summary>
    public bool HasPlainSecret => Type == SecretType.Plain || Type == SecretType.PlainBase64;

    /// <summary>Returns the line as it would be written in a secrets file (plain types as xtext).</summary>
    /// <returns>The secrets file line.</returns>
    public override string ToString()
    {
        string side = Side == SecretSide.Client ? "client" : "server";
        string line = Type switch
        {
            SecretType.Plain or SecretType.PlainBase64 => side + " plain " + XText.Encode(Id) + " " + XText.Encode(Secret),
            SecretType.Md5 => side + " md5 " + XText.Encode(Id) + " " + Secret,
            SecretType.OAuth => side + " oauth " + XText.Encode(Id) + " " + Secret,
            _ => side + " none " + Id + " " + Secret,
        };
        return Selector.Length == 0 ? line : line + " " + Selector;
    }
}
