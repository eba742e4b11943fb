// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using MimeKit;

namespace RelayCore.Submission;

/// <summary>A message to compose from parts (sender, recipients, subject, body, attachments), as Send-MailMessage takes them.</summary>
public sealed class MessageDraft
{
    /// <summary>The From address, e.g. <c>Ops &lt;ops@example.com&gt;</c>.</summary>
    public string From { get; set; }

    /// <summary>The To addresses.</summary>
    public IList<string> To { get; } = new List<string>();

    /// <summary>The Cc addresses.</summary>
    public IList<string> Cc { get; } = new List<string>();

    /// <summary>The Bcc addresses: envelope recipients that the content does not name.</summary>
    public IList<string> Bcc { get; } = new List<string>();

    /// <summary>The subject.</summary>
    public string Subject { get; set; }

    /// <summary>The body text.</summary>
    public string Body { get; set; }

    /// <summary>Whether <see cref="Body"/> is HTML rather than plain text.</summary>
    public bool IsBodyHtml { get; set; }

    /// <summary>The character set of the subject and body; UTF-8 when null.</summary>
    public Encoding Encoding { get; set; }

    /// <summary>Full paths of files to attach.</summary>
    public IList<string> Attachments { get; } = new List<string>();

    /// <summary>Extra header fields, by name.</summary>
    public IDictionary<string, string> Headers { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Builds the MIME message, encoded for 7-bit transport (quoted-printable or base64 where needed).</summary>
    /// <returns>The message, with a Date and a Message-Id.</returns>
    /// <exception cref="InvalidSubmissionException">An address cannot be parsed, or a header name is not valid.</exception>
    /// <exception cref="System.IO.IOException">An attachment cannot be read.</exception>
    public MimeMessage ToMimeMessage()
    {
        Encoding encoding = Encoding ?? new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        var message = new MimeMessage();
        message.From.Add(ParseAddress(From, nameof(From)));
        message.To.AddRange(To.Select(address => ParseAddress(address, nameof(To))));
        message.Cc.AddRange(Cc.Select(address => ParseAddress(address, nameof(Cc))));
        message.Bcc.AddRange(Bcc.Select(address => ParseAddress(address, nameof(Bcc))));
        message.Headers.Replace(HeaderId.Subject, encoding, Subject ?? string.Empty);
        message.Date = DateTimeOffset.Now;
        message.MessageId = MimeKit.Utils.MimeUtils.GenerateMessageId();
        foreach (KeyValuePair<string, string> header in Headers)
        {
            try
            {
                message.Headers.Add(header.Key, encoding, header.Value ?? string.Empty);
            }
            catch (ArgumentException error)
            {
                throw new InvalidSubmissionException("'" + header.Key + "' is not a header field name.", error);
            }
        }

        var body = new TextPart(IsBodyHtml ? "html" : "plain");
        body.SetText(encoding, Body ?? string.Empty);
        if (Attachments.Count == 0)
        {
            message.Body = body;
        }
        else
        {
            var multipart = new Multipart("mixed") { body };
            var builder = new BodyBuilder();
            foreach (string path in Attachments)
            {
                multipart.Add(builder.Attachments.Add(path));
            }
            message.Body = multipart;
        }
        message.Prepare(EncodingConstraint.SevenBit);
        return message;
    }

    private static InternetAddress ParseAddress(string address, string field)
    {
        if (string.IsNullOrWhiteSpace(address) || !InternetAddress.TryParse(address, out InternetAddress parsed))
        {
            throw new InvalidSubmissionException("The " + field + " address '" + address + "' cannot be parsed.");
        }
        return parsed;
    }
}
