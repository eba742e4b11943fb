// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace RelayCmdlets;

/// <summary>Stops relay servers running in this process: <c>Stop-RelayServer</c>.</summary>
[Cmdlet(VerbsLifecycle.Stop, "RelayServer", SupportsShouldProcess = true, DefaultParameterSetName = ByName)]
[OutputType(typeof(RelayServerInstance))]
public sealed class StopRelayServerCommand : RelayCmdlet
{
    private const string ByName = "ByName";
    private const string ByObject = "ByObject";
    private const int ProgressActivityId = 0x5e1a7;

    /// <summary>The names of the servers to stop; wildcards allowed.</summary>
    [Parameter(ParameterSetName = ByName, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RelayServerNameCompleter))]
    public string[] Name { get; set; }

    /// <summary>The servers to stop, as Start-RelayServer and Get-RelayServer write them.</summary>
    [Parameter(ParameterSetName = ByObject, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public RelayServerInstance[] InputObject { get; set; }

    /// <summary>Writes each stopped server to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Stops each server named or given.</summary>
    protected override void ProcessRecord()
    {
        IEnumerable<RelayServerInstance> servers = InputObject;
        if (ParameterSetName == ByName)
        {
            var missing = new List<string>();
            servers = RelayServerRegistry.Find(Name, missing);
            foreach (string name in missing)
            {
                WriteError(ErrorMapping.ServerNotFound(name));
            }
        }
        foreach (RelayServerInstance server in servers)
        {
            Stop(server);
        }
    }

    private void Stop(RelayServerInstance server)
    {
        string endpoints = string.Join(", ", server.Endpoints.Concat(server.TlsEndpoints));
        if (!ShouldProcess("relay server '" + server.Name + "' (" + endpoints + ")", "Stop"))
        {
            return;
        }
        WriteVerbose("Stopping relay server '" + server.Name + "': busy sessions get up to " + server.Server.Options.ShutdownGracePeriod + " to finish.");
        // Busy sessions can hold the stop for the whole grace period: say what is being waited for.
        var progress = new ProgressRecord(ProgressActivityId, "Stopping relay server '" + server.Name + "'", "Waiting for busy sessions to finish");
        WriteProgress(progress);
        bool stopped;
        try
        {
            stopped = TryInvoke(server, () => Wait(async token =>
            {
                await server.Server.StopAsync(token).ConfigureAwait(false);
                return server;
            }));
        }
        finally
        {
            progress.RecordType = ProgressRecordType.Completed;
            WriteProgress(progress);
        }
        if (!stopped)
        {
            // Not known to be stopped: it stays listed, and leaves the list when it does stop.
            return;
        }
        RelayServerRegistry.Remove(server);
        if (PassThru)
        {
            WriteObject(server);
        }
    }
}
