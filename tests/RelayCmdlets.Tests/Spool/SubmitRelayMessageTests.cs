// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using Xunit;

namespace RelayCmdlets.Tests.Spool;

public sealed class SubmitRelayMessageTests : IClassFixture<ModuleRunspace>
{
    private const string Envelope = ".envelope";
    private const string Content = ".content";

    private readonly ModuleRunspace _shell;

    public SubmitRelayMessageTests(ModuleRunspace shell) => _shell = shell;

    [Fact]
    public void Compose_WithAttachment_SpoolsAMultipartMessageAndTheEnvelopeOfEmailRelaySubmit()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        string attachment = spool.File("report.csv");
        File.WriteAllText(attachment, "name,count\r\nrelay,1\r\n");

        PipelineResult result = _shell.Invoke(
            "Submit-RelayMessage -SpoolPath $spool -From 'Ops <ops@example.com>' -To bob@example.net -Cc carol@example.org -Subject 'Daily report' -Body 'See attached.' -Attachment $attachment | ForEach-Object Id",
            ("spool", spool.Path), ("attachment", attachment));

        Assert.Empty(result.Errors);
        string id = result.OutputOf<string>().Single();
        string content = File.ReadAllText(spool.File(id + Content));
        Assert.Contains("Content-Type: multipart/mixed", content, StringComparison.Ordinal);
        Assert.Contains("filename=report.csv", content, StringComparison.Ordinal);
        Assert.Contains("\r\n\r\nname,count\r\nrelay,1\r\n", content, StringComparison.Ordinal);
        Assert.DoesNotContain("Received:", content, StringComparison.Ordinal);
        Assert.Equal(
            "X-MailRelay-Format: #2821.8\r\nX-MailRelay-Content: unknown\r\nX-MailRelay-From: ops@example.com\r\nX-MailRelay-ToCount: 2\r\n" +
            "X-MailRelay-To-Remote: bob@example.net\r\nX-MailRelay-To-Remote: carol@example.org\r\nX-MailRelay-Authentication: \r\nX-MailRelay-Client: 127.0.0.1\r\n",
            string.Concat(File.ReadLines(spool.File(id + Envelope)).Take(8).Select(line => line + "\r\n")));
    }

    [Fact]
    public void Compose_WithBcc_PutsTheBccRecipientInTheEnvelopeOnly()
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke(
            "Submit-RelayMessage -SpoolPath $spool -From ops@example.com -To bob@example.net -Bcc audit@example.org -Subject s -Body b | ForEach-Object { $_.Id; $_.To }",
            ("spool", spool.Path));

        Assert.Empty(result.Errors);
        string id = result.OutputOf<string>()[0];
        Assert.Equal(new[] { "bob@example.net", "audit@example.org" }, result.OutputOf<string>().Skip(1));
        Assert.Contains("X-MailRelay-To-Remote: audit@example.org\r\n", File.ReadAllText(spool.File(id + Envelope)), StringComparison.Ordinal);
        Assert.DoesNotContain("audit@example.org", File.ReadAllText(spool.File(id + Content)), StringComparison.Ordinal);
    }

    [Fact]
    public void EmlPath_WithBareLfAndFoldedBcc_KeepsTheBytesAsCrlfWithoutTheBccField()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        string eml = spool.File("note.eml");
        File.WriteAllText(eml, "From: submit@example.com\nTo: one@example.net\nBcc: hidden@example.org,\n  other@example.org\nSubject: note\n\nLine one\n.dot line\n");

        PipelineResult result = _shell.Invoke("Submit-RelayMessage -Path $eml -SpoolPath $spool | ForEach-Object { $_.Id; $_.From; $_.To }", ("spool", spool.Path), ("eml", eml));

        Assert.Empty(result.Errors);
        string id = result.OutputOf<string>()[0];
        Assert.Equal(
            "From: submit@example.com\r\nTo: one@example.net\r\nSubject: note\r\n\r\nLine one\r\n.dot line\r\n",
            File.ReadAllText(spool.File(id + Content)));
        Assert.Equal(new[] { "submit@example.com", "one@example.net", "hidden@example.org", "other@example.org" }, result.OutputOf<string>().Skip(1));
    }

    [Fact]
    public void PipedLines_FromGetContentStyle_MakeOneMessageJoinedWithCrlf()
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke(
            "'From: a@example.com', 'To: b@example.net', 'Subject: lines', '', 'body', '' | Submit-RelayMessage -SpoolPath $spool | ForEach-Object Id",
            ("spool", spool.Path));

        Assert.Empty(result.Errors);
        string id = result.OutputOf<string>().Single();
        Assert.Equal("From: a@example.com\r\nTo: b@example.net\r\nSubject: lines\r\n\r\nbody\r\n", File.ReadAllText(spool.File(id + Content)));
    }

    [Fact]
    public void WholeText_WithEnvelopeTo_UsesTheGivenRecipientsNotTheHeaders()
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke(
            "Submit-RelayMessage -InputObject \"From: a@example.com`r`nTo: b@example.net`r`n`r`nbody`r`n\" -EnvelopeTo x@example.org -EnvelopeFrom '' -SpoolPath $spool | ForEach-Object { '{0}|{1}' -f $_.From, ($_.To -join ',') }",
            ("spool", spool.Path));

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { "|x@example.org" }, result.OutputOf<string>());
    }

    [Fact]
    public void MimeMessageFromTheSpool_WithEnvelopeTo_IsSubmittedAgainWithItsContent()
    {
        using TestSpool spool = TestSpool.CopyOfEmailRelaySpool();

        PipelineResult result = _shell.Invoke(
            "(Get-RelaySpool -SpoolPath $spool -Id $id).GetMimeMessage() | Submit-RelayMessage -EnvelopeTo two@example.net -SpoolPath $spool | ForEach-Object { $_.Id; $_.From; $_.To }",
            ("spool", spool.Path), ("id", TestSpool.SubmittedMessageId));

        Assert.Empty(result.Errors);
        string id = result.OutputOf<string>()[0];
        Assert.NotEqual(TestSpool.SubmittedMessageId, id);
        Assert.Equal(new[] { "submit@example.com", "two@example.net" }, result.OutputOf<string>().Skip(1));
        Assert.Equal("Subject: submitted\r\nFrom: submit@example.com\r\n\r\nWritten by emailrelay-submit.\r\n", File.ReadAllText(spool.File(id + Content)));
    }

    [Theory]
    [InlineData("'From: a@example.com', '', 'body' | Submit-RelayMessage -SpoolPath $spool")]
    [InlineData("Submit-RelayMessage -SpoolPath $spool -From a@example.com -To b@example.net -Header @{ 'Bad Name' = 'x' }")]
    public void MessageWithoutRecipientsOrWithInvalidHeaderName_WritesInvalidSubmissionAndLeavesNoFiles(string script)
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke(script, ("spool", spool.Path));

        Assert.Equal(new[] { "InvalidSubmission,RelayCmdlets.SubmitRelayMessageCommand" }, result.ErrorIds);
        Assert.Empty(Directory.GetFiles(spool.Path));
    }

    [Fact]
    public void MissingEmlPath_WritesPathNotFoundAndSubmitsTheOthers()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        string eml = spool.File("ok.eml");
        File.WriteAllText(eml, "From: a@example.com\r\nTo: b@example.net\r\n\r\nok\r\n");

        PipelineResult result = _shell.Invoke("Submit-RelayMessage -Path $missing, $eml -SpoolPath $spool | ForEach-Object Id", ("spool", spool.Path), ("eml", eml), ("missing", spool.File("missing.eml")));

        Assert.Equal(new[] { "PathNotFound,RelayCmdlets.SubmitRelayMessageCommand" }, result.ErrorIds);
        Assert.Single(result.Output);
    }

    [Fact]
    public void WhatIf_CreatesNeitherFilesNorTheSpoolAndNamesTheSpool()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        string nested = spool.File("new-spool");

        PipelineResult result = _shell.Invoke("Submit-RelayMessage -SpoolPath $nested -From a@example.com -To b@example.net -Subject s -WhatIf", ("nested", nested));

        Assert.Empty(result.Errors);
        Assert.False(Directory.Exists(nested));
        Assert.Contains(result.HostLines, line => line.Contains("Submit to spool " + nested, StringComparison.Ordinal));
    }

    [Fact]
    public void MissingAttachment_WritesPathNotFoundAndSpoolsNothing()
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke(
            "Submit-RelayMessage -SpoolPath $spool -From a@example.com -To b@example.net -Attachment $missing",
            ("spool", spool.Path), ("missing", spool.File("missing.pdf")));

        Assert.Equal(new[] { "PathNotFound,RelayCmdlets.SubmitRelayMessageCommand" }, result.ErrorIds);
        Assert.Equal(spool.File("missing.pdf"), result.Errors[0].TargetObject);
        Assert.Empty(Directory.GetFiles(spool.Path));
    }

    [Fact]
    public void ExtraHeaders_AreInTheContent()
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke("Submit-RelayMessage -SpoolPath $spool -From a@example.com -To b@example.net -Header @{ 'X-Priority' = '1' } | ForEach-Object ContentPath", ("spool", spool.Path));

        Assert.Empty(result.Errors);
        Assert.Contains("\r\nX-Priority: 1\r\n", File.ReadAllText(result.OutputOf<string>().Single()), StringComparison.Ordinal);
    }

    [Fact]
    public void LiteralPathInMissingFolder_WritesPathNotFound()
    {
        using TestSpool spool = TestSpool.CreateEmpty();

        PipelineResult result = _shell.Invoke("Submit-RelayMessage -LiteralPath $missing -SpoolPath $spool", ("spool", spool.Path), ("missing", spool.File("no-folder/a.eml")));

        Assert.Equal(new[] { "PathNotFound,RelayCmdlets.SubmitRelayMessageCommand" }, result.ErrorIds);
    }

    [Fact]
    public void MissingSpoolDirectory_IsCreated()
    {
        using TestSpool spool = TestSpool.CreateEmpty();
        string nested = spool.File("new-spool");

        PipelineResult result = _shell.Invoke("Submit-RelayMessage -SpoolPath $nested -From a@example.com -To b@example.net | ForEach-Object SpoolPath", ("nested", nested));

        Assert.Empty(result.Errors);
        Assert.Equal(new[] { nested }, result.OutputOf<string>());
        Assert.Equal(2, Directory.GetFiles(nested).Length);
    }

    [Theory]
    [InlineData("Submit-RelayMessage -From '' -To b@example.net", "ParameterArgumentValidationError,RelayCmdlets.SubmitRelayMessageCommand")]
    [InlineData("Submit-RelayMessage -From a@example.com -To b@example.net -Encoding no-such-charset", "ParameterArgumentTransformationError,RelayCmdlets.SubmitRelayMessageCommand")]
    [InlineData("Submit-RelayMessage -Path a.eml -From a@example.com", "AmbiguousParameterSet,RelayCmdlets.SubmitRelayMessageCommand")]
    public void InvalidArgument_IsParameterBindingError(string script, string errorId)
    {
        PipelineResult result = _shell.Invoke(script);

        Assert.Equal(new[] { errorId }, result.ErrorIds);
    }
}
