// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Management.Automation;
using RelayCore.Spool;

namespace RelayCmdlets;

/// <summary>Lists the messages of a spool directory: <c>Get-RelaySpool</c>.</summary>
[Cmdlet(VerbsCommon.Get, "RelaySpool", DefaultParameterSetName = ByState)]
[OutputType(typeof(RelayMessage))]
public sealed class GetRelaySpoolCommand : RelayCmdlet
{
    private const string ByState = "ByState";
    private const string ById = "ById";

    /// <summary>The ids to list; wildcards allowed.</summary>
    [Parameter(ParameterSetName = ById, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Id { get; set; }

    /// <summary>The states to list; all when omitted.</summary>
    [Parameter(ParameterSetName = ByState, Position = 0)]
    [Parameter(ParameterSetName = ById)]
    public RelayMessageState[] State { get; set; }

    /// <summary>The spool directory.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string SpoolPath { get; set; }

    /// <summary>Lists the messages.</summary>
    protected override void ProcessRecord()
    {
        SpoolDirectory spool = SpoolDirectory.Open(SessionState.Path.GetUnresolvedProviderPathFromPSPath(SpoolPath ?? "."), create: false);
        foreach (RelayMessage message in spool.Find(Id, State))
        {
            WriteObject(message);
        }
    }
}
