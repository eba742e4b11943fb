// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Linq;
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

    /// <summary>The ids to list; <c>*</c> and <c>?</c> wildcards allowed.</summary>
    [Parameter(ParameterSetName = ById, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RelayMessageIdCompleter))]
    public string[] Id { get; set; }

    /// <summary>The states to list; all when omitted.</summary>
    [Parameter(ParameterSetName = ByState)]
    [Parameter(ParameterSetName = ById)]
    [ValidateNotNullOrEmpty]
    public RelayMessageState[] State { get; set; }

    /// <summary>The spool directory; the platform's default spool when omitted.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string SpoolPath { get; set; }

    /// <summary>Lists the messages; an exact id that matches nothing is a non-terminating error.</summary>
    protected override void ProcessRecord()
    {
        SpoolDirectory spool = OpenSpool(SpoolPath, create: false);
        var unmatched = new HashSet<string>((Id ?? Array.Empty<string>()).Where(id => !WildcardPattern.ContainsWildcardCharacters(id)));
        foreach (RelayMessage message in spool.Find(Id, State))
        {
            unmatched.Remove(message.Id);
            WriteObject(message);
        }
        foreach (string id in Id?.Where(unmatched.Contains) ?? Enumerable.Empty<string>())
        {
            WriteError(ErrorMapping.TryMap(new RelayMessageNotFoundException(id, spool.Path), id));
        }
    }
}
