// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.Management.Automation;

namespace RelayCmdlets;

/// <summary>Lists the relay servers running in this process: <c>Get-RelayServer</c>.</summary>
[Cmdlet(VerbsCommon.Get, "RelayServer")]
[OutputType(typeof(RelayServerInstance))]
public sealed class GetRelayServerCommand : RelayCmdlet
{
    /// <summary>The names of the servers to list; wildcards allowed; every server when omitted.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RelayServerNameCompleter))]
    public string[] Name { get; set; }

    /// <summary>Writes the servers that match.</summary>
    protected override void ProcessRecord()
    {
        var missing = new List<string>();
        WriteObject(RelayServerRegistry.Find(Name, missing), enumerateCollection: true);
        foreach (string name in missing)
        {
            WriteError(ErrorMapping.ServerNotFound(name));
        }
    }
}
