// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Management.Automation;
using RelayCore.Forwarding;
using RelayCore.Net;

namespace RelayCmdlets;

/// <summary>
/// Probes a next hop as forwarding would use it (POP-before-SMTP, connect, greeting, EHLO, STARTTLS,
/// AUTH) and reports what it offers and where it failed: <c>Test-RelayConnection</c>.
/// </summary>
/// <remarks>A failure at any step is part of the result, not an error: the result is what the cmdlet is for.</remarks>
[Cmdlet(VerbsDiagnostic.Test, "RelayConnection")]
[OutputType(typeof(ConnectionProbeResult))]
[OutputType(typeof(bool))]
public sealed class TestRelayConnectionCommand : RelayConnectionCmdlet
{

    /// <summary>The next hop to probe: <c>host:port</c>, <c>[ipv6]:port</c>, or either with <c>@socks-host:socks-port</c>.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public NextHopAddress To { get; set; }

    /// <summary>Picks the account for this selector (an -OAuthAccountBySelector key, or a client secrets file line's fifth field), as an envelope's ClientAccountSelector does.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string AccountSelector { get; set; }

    /// <summary>Writes only whether every step succeeded, as Test-Connection's -Quiet does.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    /// <summary>Probes the next hop and writes the result.</summary>
    protected override void ProcessRecord()
    {
        ForwardingOptions options = BuildForwardingOptions(To);
        try
        {
            ConnectionProbeResult result = PipelineQueue.Run(token => ConnectionProbe.RunAsync(options, AccountSelector, token), StopToken);
            WriteObject(Quiet ? (object)result.Succeeded : result);
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            // Ctrl+C ends the probe quietly.
        }
        catch (Exception error) when (ErrorMapping.TryMapForwardingStart(error, options) is ErrorRecord record)
        {
            WriteError(record);
        }
    }

}
