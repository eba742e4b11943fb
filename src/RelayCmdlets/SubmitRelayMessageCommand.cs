// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using RelayCore.Spool;
using RelayCore.Submission;

namespace RelayCmdlets;

/// <summary>
/// Puts a message straight into a spool, as <c>emailrelay-submit</c> does, from an .eml file,
/// pipeline text, a MimeKit message, or parts in the manner of Send-MailMessage: <c>Submit-RelayMessage</c>.
/// </summary>
[Cmdlet(VerbsLifecycle.Submit, "RelayMessage", DefaultParameterSetName = ByPath, SupportsShouldProcess = true)]
[OutputType(typeof(RelayMessage))]
public sealed class SubmitRelayMessageCommand : RelayCmdlet
{
    private const string ByPath = "Path";
    private const string ByLiteralPath = "LiteralPath";
    private const string ByText = "Text";
    private const string ByMimeMessage = "MimeMessage";
    private const string ByCompose = "Compose";

    private readonly List<string> _lines = new List<string>();
    private string _spoolPath;
    private SpoolDirectory _spool;

    /// <summary>Paths of .eml files to submit, one message each; wildcards allowed.</summary>
    [Parameter(ParameterSetName = ByPath, Mandatory = true, Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; }

    /// <summary>Paths of .eml files to submit, taken exactly as written.</summary>
    [Parameter(ParameterSetName = ByLiteralPath, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; }

    /// <summary>The message text; lines piped one by one (as Get-Content writes them) make one message.</summary>
    [Parameter(ParameterSetName = ByText, Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyString]
    [AllowEmptyCollection]
    public string[] InputObject { get; set; }

    /// <summary>A MimeKit message, e.g. from <c>RelayMessage.GetMimeMessage()</c>.</summary>
    [Parameter(ParameterSetName = ByMimeMessage, Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public MimeMessage Message { get; set; }

    /// <summary>The From address of a composed message; also its envelope sender unless <see cref="EnvelopeFrom"/> is given.</summary>
    [Parameter(ParameterSetName = ByCompose, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string From { get; set; }

    /// <summary>The To addresses of a composed message.</summary>
    [Parameter(ParameterSetName = ByCompose, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string[] To { get; set; }

    /// <summary>The Cc addresses of a composed message.</summary>
    [Parameter(ParameterSetName = ByCompose)]
    [ValidateNotNullOrEmpty]
    public string[] Cc { get; set; }

    /// <summary>Blind recipients of a composed message: in the envelope, not in the content.</summary>
    [Parameter(ParameterSetName = ByCompose)]
    [ValidateNotNullOrEmpty]
    public string[] Bcc { get; set; }

    /// <summary>The subject of a composed message.</summary>
    [Parameter(ParameterSetName = ByCompose)]
    [AllowEmptyString]
    public string Subject { get; set; }

    /// <summary>The body of a composed message.</summary>
    [Parameter(ParameterSetName = ByCompose)]
    [AllowEmptyString]
    public string Body { get; set; }

    /// <summary>Sends <see cref="Body"/> as HTML rather than plain text.</summary>
    [Parameter(ParameterSetName = ByCompose)]
    public SwitchParameter BodyAsHtml { get; set; }

    /// <summary>Files to attach to a composed message (literal paths).</summary>
    [Parameter(ParameterSetName = ByCompose)]
    [ValidateNotNullOrEmpty]
    public string[] Attachment { get; set; }

    /// <summary>The character set of a composed message's subject and body; UTF-8 when omitted.</summary>
    [Parameter(ParameterSetName = ByCompose)]
    [EncodingTransformation]
    [ValidateNotNull]
    public Encoding Encoding { get; set; }

    /// <summary>Extra header fields of a composed message, name = value.</summary>
    [Parameter(ParameterSetName = ByCompose)]
    [ValidateNotNull]
    public Hashtable Header { get; set; }

    /// <summary>The envelope sender; when omitted, the Sender or From header's address. Empty for a bounce (<c>&lt;&gt;</c>).</summary>
    [Parameter]
    [AllowEmptyString]
    [ValidateNotNull]
    public string EnvelopeFrom { get; set; }

    /// <summary>The envelope recipients; when omitted, the addresses of the To, Cc and Bcc headers.</summary>
    [Parameter(ParameterSetName = ByPath)]
    [Parameter(ParameterSetName = ByLiteralPath)]
    [Parameter(ParameterSetName = ByText)]
    [Parameter(ParameterSetName = ByMimeMessage)]
    [ValidateNotNullOrEmpty]
    public string[] EnvelopeTo { get; set; }

    /// <summary>The spool directory, created when missing; the platform's default spool when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string SpoolPath { get; set; }

    /// <summary>Resolves the spool path once for the whole pipeline; the directory is made at the first submission, not under -WhatIf.</summary>
    protected override void BeginProcessing() => _spoolPath = ResolveSpoolPath(SpoolPath);

    /// <summary>Submits each file or message object; collects pipeline text lines.</summary>
    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case ByPath:
                foreach (string path in Path)
                {
                    SubmitFiles(path, () => SessionState.Path.GetResolvedProviderPathFromPSPath(path, out _));
                }
                break;
            case ByLiteralPath:
                foreach (string path in LiteralPath)
                {
                    SubmitFiles(path, () => new[] { ResolveLiteralFile(path) });
                }
                break;
            case ByText:
                _lines.AddRange(InputObject);
                break;
            case ByMimeMessage:
                Submit("message " + (Message.MessageId ?? Message.Subject), Message.Subject, token => MessageSubmitter.SubmitAsync(_spool, Message, EnvelopeFrom, EnvelopeTo, token));
                break;
            case ByCompose:
                SubmitComposed();
                break;
        }
    }

    /// <summary>Submits the collected text as one message.</summary>
    protected override void EndProcessing()
    {
        if (ParameterSetName != ByText)
        {
            return;
        }
        // Lines piped one by one lost their line ends; a single string keeps its own.
        string text = _lines.Count == 1 ? _lines[0] : string.Join("\r\n", _lines);
        if (!text.EndsWith("\n", StringComparison.Ordinal))
        {
            text += "\r\n";
        }
        byte[] bytes = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false).GetBytes(text);
        Submit("text of " + bytes.Length + " bytes", null, token => MessageSubmitter.SubmitAsync(_spool, new MemoryStream(bytes), EnvelopeFrom, EnvelopeTo, token));
    }

    private void SubmitFiles(string path, Func<IEnumerable<string>> resolve)
    {
        IEnumerable<string> files = null;
        if (!TryInvoke(path, () => files = resolve().ToList()))
        {
            return;
        }
        foreach (string file in files)
        {
            Submit(file, null, token => SubmitFileAsync(file, token));
        }
    }

    private async Task<RelayMessage> SubmitFileAsync(string file, CancellationToken cancellationToken)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 16 * 1024, useAsync: true);
        return await MessageSubmitter.SubmitAsync(_spool, stream, EnvelopeFrom, EnvelopeTo, cancellationToken).ConfigureAwait(false);
    }

    private void SubmitComposed()
    {
        var draft = new MessageDraft { From = From, Subject = Subject, Body = Body, IsBodyHtml = BodyAsHtml, Encoding = Encoding };
        AddAll(draft.To, To);
        AddAll(draft.Cc, Cc);
        AddAll(draft.Bcc, Bcc);
        foreach (string path in Attachment ?? Array.Empty<string>())
        {
            string resolved = null;
            if (!TryInvoke(path, () => resolved = ResolveLiteralFile(path)))
            {
                return;
            }
            draft.Attachments.Add(resolved);
        }
        foreach (DictionaryEntry header in Header ?? new Hashtable())
        {
            draft.Headers[header.Key.ToString()] = header.Value?.ToString();
        }
        MimeMessage message = null;
        if (TryInvoke(From, () => message = draft.ToMimeMessage()))
        {
            Submit("message '" + Subject + "' from " + From, Subject, token => MessageSubmitter.SubmitAsync(_spool, message, EnvelopeFrom, null, token));
        }
    }

    private void Submit(string source, string subject, Func<CancellationToken, Task<RelayMessage>> submit)
    {
        if (!ShouldProcess(source, "Submit to spool " + _spoolPath))
        {
            return;
        }
        _spool ??= OpenSpool(_spoolPath, create: true);
        RelayMessage submitted = null;
        if (TryInvoke(source, () => submitted = Wait(submit)))
        {
            WriteVerbose("Submitted " + submitted.Id + (subject == null ? string.Empty : " '" + subject + "'") + " from <" + submitted.From + "> to " + string.Join(", ", submitted.To) + ".");
            WriteObject(submitted);
        }
    }

    private string ResolveLiteralFile(string path)
    {
        string file = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
        // Reported like a -Path that matches nothing, not as the FileStream's error (a missing folder would read as a missing spool).
        return File.Exists(file) ? file : throw new ItemNotFoundException("Cannot find the file '" + file + "' because it does not exist.");
    }

    private static void AddAll(ICollection<string> target, IEnumerable<string> values)
    {
        foreach (string value in values ?? Enumerable.Empty<string>())
        {
            target.Add(value);
        }
    }
}
