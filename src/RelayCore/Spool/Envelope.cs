// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace RelayCore.Spool;

/// <summary>
/// The envelope of a spooled message: E-MailRelay's <c>X-MailRelay-*</c> field file.
/// </summary>
/// <remarks>
/// Fields hold the text as stored (xtext fields stay encoded), so an envelope read and written
/// again is unchanged. Writing always produces format <c>#2821.8</c> in E-MailRelay 2.6's field
/// order, which its reader requires. Reading accepts <c>#2821.3</c> (E-MailRelay 1.x, no
/// certificate or AUTH= fields) to <c>#2821.8</c>: each later format added fields (1.9 a client
/// certificate and socket name, 2.0 MailFromAuthIn/Out, 2.4 and 2.5 the forwarding, account
/// selector and UTF-8 fields), and a field a file lacks reads as empty. Filter scripts edit
/// these files in place, so any field order after <c>Format</c>, any case of field names, extra
/// white space and LF-only line ends are accepted; unknown fields are ignored.
/// </remarks>
public sealed class Envelope
{
    /// <summary>The format this version writes.</summary>
    public const string CurrentFormat = "#2821.8";

    private const string FieldPrefix = "X-MailRelay-";
    private static readonly UTF8Encoding s_utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    /// <summary>The format line read, or <see cref="CurrentFormat"/> for a new envelope.</summary>
    public string Format { get; set; } = CurrentFormat;

    /// <summary>The body type from MAIL FROM's BODY= parameter.</summary>
    public MessageBodyType BodyType { get; set; }

    /// <summary>The reverse-path without angle brackets; empty for the null path <c>&lt;&gt;</c>.</summary>
    public string From { get; set; } = string.Empty;

    /// <summary>Recipients that an address verifier found local (mailbox names).</summary>
    public List<string> ToLocal { get; } = new List<string>();

    /// <summary>Recipients to forward.</summary>
    public List<string> ToRemote { get; } = new List<string>();

    /// <summary>The xtext of the SMTP AUTH user id; empty when the client did not authenticate.</summary>
    public string Authentication { get; set; } = string.Empty;

    /// <summary>The client's IP address, without a port.</summary>
    public string Client { get; set; } = string.Empty;

    /// <summary>The client's TLS certificate in PEM form; usually empty.</summary>
    public string ClientCertificate { get; set; } = string.Empty;

    /// <summary>The xtext AUTH= parameter received on MAIL FROM, as given.</summary>
    public string MailFromAuthIn { get; set; } = string.Empty;

    /// <summary>The xtext AUTH= parameter to send when forwarding; empty for the default, <c>&lt;&gt;</c> for none.</summary>
    public string MailFromAuthOut { get; set; } = string.Empty;

    /// <summary>The xtext routing hint (for example a domain, set by a <c>split:</c> filter).</summary>
    public string ForwardTo { get; set; } = string.Empty;

    /// <summary>The <c>host:port</c> to forward this message to, overriding the default next hop.</summary>
    public string ForwardToAddress { get; set; } = string.Empty;

    /// <summary>Selects the <c>client</c> secrets line whose fifth field matches.</summary>
    public string ClientAccountSelector { get; set; } = string.Empty;

    /// <summary>Whether the mailbox names are UTF-8 (the client used SMTPUTF8).</summary>
    public bool Utf8MailboxNames { get; set; }

    /// <summary>
    /// The lines after <c>X-MailRelay-End</c>, kept as they are; failure reasons are appended here.
    /// </summary>
    public List<string> Trailer { get; } = new List<string>();

    /// <summary>The failure reasons recorded in the trailer, oldest first.</summary>
    public IReadOnlyList<EnvelopeReason> Reasons
    {
        get
        {
            var reasons = new List<EnvelopeReason>();
            foreach (string line in Trailer)
            {
                if (TrySplitField(line, out string name, out string value))
                {
                    if (string.Equals(name, "Reason", StringComparison.OrdinalIgnoreCase))
                    {
                        reasons.Add(new EnvelopeReason(value, null));
                    }
                    else if (string.Equals(name, "ReasonCode", StringComparison.OrdinalIgnoreCase) && reasons.Count > 0 && reasons[reasons.Count - 1].Code == null)
                    {
                        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int code);
                        reasons[reasons.Count - 1] = new EnvelopeReason(reasons[reasons.Count - 1].Text, code == 0 ? (int?)null : code);
                    }
                }
            }
            return reasons;
        }
    }

    /// <summary>Appends one Reason/ReasonCode pair, as E-MailRelay does on each failure.</summary>
    /// <param name="reason">The reason text; reduced to printable ASCII on one line.</param>
    /// <param name="code">The SMTP reply code, or null when there was none.</param>
    public void AddReason(string reason, int? code) => Trailer.AddRange(FormatReason(reason, code));

    /// <summary>The two trailer lines of one failure, without line ends.</summary>
    internal static string[] FormatReason(string reason, int? code) => new[]
    {
        FieldPrefix + "Reason: " + ToPrintableAscii(reason),
        FieldPrefix + "ReasonCode: " + (code.HasValue ? code.Value.ToString(CultureInfo.InvariantCulture) : string.Empty),
    };

    /// <summary>Writes the envelope in format <c>#2821.8</c> with CRLF line ends.</summary>
    /// <param name="stream">The stream to write to; left open.</param>
    public void WriteTo(Stream stream)
    {
        if (stream == null)
        {
            throw new ArgumentNullException(nameof(stream));
        }
        byte[] bytes = s_utf8.GetBytes(ToText());
        stream.Write(bytes, 0, bytes.Length);
    }

    /// <summary>Returns the envelope file's text in format <c>#2821.8</c>.</summary>
    /// <returns>The envelope text with CRLF line ends.</returns>
    public string ToText()
    {
        var text = new StringBuilder(512);
        AppendField(text, "Format", CurrentFormat);
        AppendField(text, "Content", BodyTypeText(BodyType));
        AppendField(text, "From", From);
        AppendField(text, "ToCount", (ToLocal.Count + ToRemote.Count).ToString(CultureInfo.InvariantCulture));
        foreach (string to in ToLocal)
        {
            AppendField(text, "To-Local", to);
        }
        foreach (string to in ToRemote)
        {
            AppendField(text, "To-Remote", to);
        }
        AppendField(text, "Authentication", Authentication);
        AppendField(text, "Client", Client);
        AppendField(text, "ClientCertificate", FoldPem(ClientCertificate));
        AppendField(text, "MailFromAuthIn", MailFromAuthIn);
        AppendField(text, "MailFromAuthOut", MailFromAuthOut);
        AppendField(text, "ForwardTo", ForwardTo);
        AppendField(text, "ForwardToAddress", ForwardToAddress);
        AppendField(text, "ClientAccountSelector", ClientAccountSelector);
        AppendField(text, "Utf8MailboxNames", Utf8MailboxNames ? "1" : "0");
        AppendField(text, "End", "1");
        foreach (string line in Trailer)
        {
            text.Append(line).Append("\r\n");
        }
        return text.ToString();
    }

    /// <summary>Reads an envelope file of any format from <c>#2821.3</c> to <c>#2821.8</c>.</summary>
    /// <param name="stream">The envelope file's content.</param>
    /// <returns>The envelope.</returns>
    /// <exception cref="InvalidDataException">The text is not an E-MailRelay envelope.</exception>
    public static Envelope Read(Stream stream)
    {
        if (stream == null)
        {
            throw new ArgumentNullException(nameof(stream));
        }
        using var reader = new StreamReader(stream, s_utf8, detectEncodingFromByteOrderMarks: false, bufferSize: 1024, leaveOpen: true);
        return Parse(reader.ReadToEnd());
    }

    /// <summary>Parses envelope text of any format from <c>#2821.3</c> to <c>#2821.8</c>.</summary>
    /// <param name="text">The envelope file's text.</param>
    /// <returns>The envelope.</returns>
    /// <exception cref="InvalidDataException">The text is not an E-MailRelay envelope.</exception>
    public static Envelope Parse(string text)
    {
        if (text == null)
        {
            throw new ArgumentNullException(nameof(text));
        }
        var envelope = new Envelope { Format = null };
        bool ended = false;
        string previousName = null;
        foreach (string rawLine in text.Split('\n'))
        {
            string line = rawLine.TrimEnd('\r');
            if (ended)
            {
                if (line.Length > 0)
                {
                    envelope.Trailer.Add(line);
                }
                continue;
            }
            if (line.Length > 0 && (line[0] == ' ' || line[0] == '\t') && string.Equals(previousName, "ClientCertificate", StringComparison.OrdinalIgnoreCase))
            {
                envelope.ClientCertificate += "\r\n" + line.Substring(1);
                continue;
            }
            if (!TrySplitField(line, out string name, out string value))
            {
                if (line.Trim().Length == 0)
                {
                    continue;
                }
                throw new InvalidDataException("Not an envelope line: '" + Truncate(line) + "'.");
            }
            previousName = name;
            ended = envelope.SetField(name, value);
        }
        if (envelope.Format == null || !envelope.Format.StartsWith("#2821.", StringComparison.Ordinal))
        {
            throw new InvalidDataException("The envelope has no X-MailRelay-Format line of the #2821 family.");
        }
        return envelope;
    }

    private bool SetField(string name, string value)
    {
        switch (name.ToLowerInvariant())
        {
            case "format": Format = value; break;
            case "content": BodyType = ParseBodyType(value); break;
            case "from": From = value; break;
            case "tocount": break;
            case "to-local": ToLocal.Add(value); break;
            case "to-remote": ToRemote.Add(value); break;
            case "authentication": Authentication = value; break;
            case "client": Client = value; break;
            case "clientcertificate": ClientCertificate = value; break;
            case "mailfromauthin": MailFromAuthIn = value; break;
            case "mailfromauthout": MailFromAuthOut = value; break;
            case "forwardto": ForwardTo = value; break;
            case "forwardtoaddress": ForwardToAddress = value; break;
            case "clientaccountselector": ClientAccountSelector = value; break;
            case "utf8mailboxnames": Utf8MailboxNames = value == "1"; break;
            case "end": return true;
            default: break;
        }
        return false;
    }

    private static bool TrySplitField(string line, out string name, out string value)
    {
        name = null;
        value = null;
        string trimmed = line.TrimStart();
        if (!trimmed.StartsWith(FieldPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        int colon = trimmed.IndexOf(':');
        if (colon < 0)
        {
            return false;
        }
        name = trimmed.Substring(FieldPrefix.Length, colon - FieldPrefix.Length).Trim();
        value = trimmed.Substring(colon + 1).Trim();
        return true;
    }

    private static void AppendField(StringBuilder text, string name, string value) =>
        text.Append(FieldPrefix).Append(name).Append(": ").Append(value).Append("\r\n");

    private static string FoldPem(string pem) =>
        string.IsNullOrEmpty(pem) ? string.Empty : pem.Replace("\r\n", "\n").TrimEnd('\n').Replace("\n", "\r\n ");

    private static string BodyTypeText(MessageBodyType type) => type switch
    {
        MessageBodyType.SevenBit => "7bit",
        MessageBodyType.EightBitMime => "8bit",
        MessageBodyType.BinaryMime => "binarymime",
        _ => "unknown",
    };

    private static MessageBodyType ParseBodyType(string value) => value.ToLowerInvariant() switch
    {
        "7bit" => MessageBodyType.SevenBit,
        "8bit" => MessageBodyType.EightBitMime,
        "binarymime" => MessageBodyType.BinaryMime,
        _ => MessageBodyType.Unknown,
    };

    private static string ToPrintableAscii(string text)
    {
        var printable = new StringBuilder(text?.Length ?? 0);
        foreach (char c in text ?? string.Empty)
        {
            printable.Append(c >= ' ' && c <= '~' ? c : ' ');
        }
        return printable.ToString().Trim();
    }

    private static string Truncate(string line) => line.Length <= 80 ? line : line.Substring(0, 80) + "...";
}
