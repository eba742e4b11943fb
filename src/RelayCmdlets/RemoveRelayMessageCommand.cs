// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Management.Automation;
using RelayCore.Spool;

namespace RelayCmdlets;

/// <summary>Deletes messages (envelope and content) from a spool: <c>Remove-RelayMessage</c>.</summary>
/// <remarks>ConfirmImpact is High because a removed message cannot be recovered.</remarks>
[Cmdlet(VerbsCommon.Remove, "RelayMessage", DefaultParameterSetName = ById, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
public sealed class RemoveRelayMessageCommand : RelayCmdlet
{
    private const string ById = "ById";
    private const string ByInputObject = "InputObject";

    /// <summary>The messages to remove, e.g. from <c>Get-RelaySpool</c>.</summary>
    [Parameter(ParameterSetName = ByInputObject, Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public RelayMessage[] InputObject { get; set; }

    /// <summary>The ids of the messages to remove (exact ids, no wildcards).</summary>
    [Parameter(ParameterSetName = ById, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RelayMessageIdCompleter))]
    public string[] Id { get; set; }

    /// <summary>The spool directory holding the ids; the platform's default spool when omitted.</summary>
    [Parameter(ParameterSetName = ById, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string SpoolPath { get; set; }

    /// <summary>Removes each message; a busy or new one is a non-terminating error (the spool refuses it).</summary>
    protected override void ProcessRecord()
    {
        foreach (RelayMessage message in ResolveMessages(InputObject, Id, SpoolPath))
        {
            if (ShouldProcess(DescribeTarget(message), "Remove message and its content file"))
            {
                TryInvoke(message, () => SpoolDirectory.Open(message.SpoolPath, create: false).Remove(message));
            }
        }
    }
}
