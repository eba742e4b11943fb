// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.Management.Automation;
using RelayCore.Spool;

namespace RelayCmdlets;

/// <summary>
/// Returns failed messages to the ready state so that they are forwarded again, unless they
/// failed too often: <c>Reset-RelayBadMessage</c> (E-MailRelay's <c>emailrelay-resubmit</c>).
/// </summary>
[Cmdlet(VerbsCommon.Reset, "RelayBadMessage", DefaultParameterSetName = All, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RelayMessage))]
public sealed class ResetRelayBadMessageCommand : RelayCmdlet
{
    private const string All = "All";
    private const string ById = "ById";
    private const string ByInputObject = "InputObject";

    /// <summary>The default for <see cref="MaxRetries"/>, as emailrelay-resubmit has it.</summary>
    private const int DefaultMaxRetries = 5;

    /// <summary>The messages to reset, e.g. from <c>Get-RelaySpool -State Bad</c>.</summary>
    [Parameter(ParameterSetName = ByInputObject, Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public RelayMessage[] InputObject { get; set; }

    /// <summary>The ids of the messages to reset.</summary>
    [Parameter(ParameterSetName = ById, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RelayMessageIdCompleter))]
    public string[] Id { get; set; }

    /// <summary>The spool directory; every Bad message in it is reset when no id is given. The default spool when omitted.</summary>
    [Parameter(ParameterSetName = All)]
    [Parameter(ParameterSetName = ById, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string SpoolPath { get; set; }

    /// <summary>Messages whose envelope records this many failures or more are left as they are.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxRetries { get; set; } = DefaultMaxRetries;

    /// <summary>Writes each message that was reset, in its new state.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Resets each message that is Bad and has failed fewer than <see cref="MaxRetries"/> times.</summary>
    protected override void ProcessRecord()
    {
        IEnumerable<RelayMessage> messages = ParameterSetName == All
            ? OpenSpool(SpoolPath, create: false).Find(null, new[] { RelayMessageState.Bad })
            : ResolveMessages(InputObject, Id, SpoolPath);
        foreach (RelayMessage message in messages)
        {
            if (message.State != RelayMessageState.Bad)
            {
                WriteVerbose("Skipped " + message.Id + ": it is " + message.State + ", not Bad.");
                continue;
            }
            // The spool enforces the limit too; checking here first reports the decision and skips the prompt.
            if (message.RetryCount >= MaxRetries)
            {
                WriteVerbose("Skipped " + message.Id + ": it failed " + message.RetryCount + " times (MaxRetries " + MaxRetries + ").");
                continue;
            }
            RelayMessage reset = null;
            if (ShouldProcess(DescribeTarget(message), "Reset to Ready") &&
                TryInvoke(message, () => SpoolDirectory.Open(message.SpoolPath, create: false).TryResetBad(message, MaxRetries, out reset)) &&
                PassThru && reset != null)
            {
                WriteObject(reset);
            }
        }
    }
}
