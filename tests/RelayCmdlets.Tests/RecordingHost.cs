// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace RelayCmdlets.Tests;

/// <summary>
/// A non-interactive host that records what is written to it: ShouldProcess writes its
/// "What if:" text to the host, not to a stream. Prompts fail, as in a script run unattended.
/// </summary>
internal sealed class RecordingHost : PSHost
{
    private readonly RecordingHostUserInterface _ui = new RecordingHostUserInterface();

    /// <summary>Every line written, in order.</summary>
    public List<string> Lines => _ui.Lines;

    public override string Name => "RelayTestHost";

    public override Version Version { get; } = new Version(1, 0);

    public override Guid InstanceId { get; } = Guid.NewGuid();

    public override PSHostUserInterface UI => _ui;

    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;

    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;

    public override void SetShouldExit(int exitCode)
    {
    }

    public override void EnterNestedPrompt() => throw new NotSupportedException("The test host has no nested prompt.");

    public override void ExitNestedPrompt() => throw new NotSupportedException("The test host has no nested prompt.");

    public override void NotifyBeginApplication()
    {
    }

    public override void NotifyEndApplication()
    {
    }

    private sealed class RecordingHostUserInterface : PSHostUserInterface
    {
        public List<string> Lines { get; } = new List<string>();

        public override PSHostRawUserInterface RawUI => null;

        public override string ReadLine() => throw Unattended();

        public override SecureString ReadLineAsSecureString() => throw Unattended();

        public override void Write(string value) => Lines.Add(value);

        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Lines.Add(value);

        public override void WriteLine(string value) => Lines.Add(value);

        public override void WriteErrorLine(string value) => Lines.Add(value);

        public override void WriteDebugLine(string message) => Lines.Add(message);

        public override void WriteProgress(long sourceId, ProgressRecord record)
        {
        }

        public override void WriteVerboseLine(string message) => Lines.Add(message);

        public override void WriteWarningLine(string message) => Lines.Add(message);

        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions) => throw Unattended();

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) => throw Unattended();

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options) => throw Unattended();

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice) => throw Unattended();

        private static PSInvalidOperationException Unattended() => new PSInvalidOperationException("The test host cannot prompt: pass -Confirm:$false.");
    }
}
