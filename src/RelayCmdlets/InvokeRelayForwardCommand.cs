// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Spool;

namespace RelayCmdlets;

/// <summary>
/// Forwards spooled messages to a next hop: <c>Invoke-RelayForward</c> (E-MailRelay's
/// <c>--as-client</c>, and with <c>-Continuous</c> its <c>--poll</c>; the Email Redirector's whole job).
/// </summary>
/// <remarks>
/// A Failed message (refused for good, now Bad) and a Deferred one (not delivered this time, still
/// Ready) are each a non-terminating error; a deferral is no failure of the message, but an
/// administrator must see that mail is not leaving. When any message Failed, a terminating error
/// follows once everything else has been sent, so a scheduled <c>relay -Command</c> exits non-zero.
/// </remarks>
[Cmdlet(VerbsLifecycle.Invoke, "RelayForward", DefaultParameterSetName = BySpool, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(ForwardResult))]
public sealed class InvokeRelayForwardCommand : RelayForwardingCmdlet
{
    private const string BySpool = "Spool";
    private const string ById = "ById";
    private const string ByInputObject = "InputObject";
    private const int ProgressActivityId = 1;
    private const int FailedIdsNamed = 10;

    private readonly List<RelayMessage> _messages = new List<RelayMessage>();
    private readonly List<string> _failedIds = new List<string>();
    private ForwardingOptions _options;

    /// <summary>The next hop, <c>host:port</c>, <c>[ipv6]:port</c>, or either with <c>@socks-host:socks-port</c>.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNull]
    public NextHopAddress To { get; set; }

    /// <summary>The messages to forward, e.g. from <c>Get-RelaySpool</c>; only Ready ones are sent.</summary>
    [Parameter(ParameterSetName = ByInputObject, Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public RelayMessage[] InputObject { get; set; }

    /// <summary>The ids of the messages to forward.</summary>
    [Parameter(ParameterSetName = ById, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(RelayMessageIdCompleter))]
    public string[] Id { get; set; }

    /// <summary>The spool directory; every Ready message in it is forwarded when no message is given. The default spool when omitted.</summary>
    [Parameter(ParameterSetName = BySpool)]
    [Parameter(ParameterSetName = ById, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string SpoolPath { get; set; }

    /// <summary>Keeps forwarding: after each run, waits -PollInterval and forwards what is Ready then, until Ctrl+C.</summary>
    [Parameter(ParameterSetName = BySpool)]
    public SwitchParameter Continuous { get; set; }

    /// <summary>The wait between runs with -Continuous.</summary>
    [Parameter(ParameterSetName = BySpool)]
    [ValidateTimeSpanRange(0.001, 86400)]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Writes one result object per message.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Collects the messages given; they are forwarded together at the end, over shared connections.</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == BySpool)
        {
            return;
        }
        foreach (RelayMessage message in ResolveMessages(InputObject, Id, SpoolPath))
        {
            if (message.State == RelayMessageState.Ready)
            {
                _messages.Add(message);
            }
            else
            {
                WriteVerbose("Skipped " + message.Id + ": it is " + message.State + ", not Ready.");
            }
        }
    }

    /// <summary>Forwards the messages collected, or the spool's (repeatedly with -Continuous); a terminating error at the end when any failed.</summary>
    protected override void EndProcessing()
    {
        _options = BuildForwardingOptions(To);
        ForwardingAgent agent = CreateAgent();
        try
        {
            if (ParameterSetName == BySpool)
            {
                ForwardSpool(agent, OpenSpool(SpoolPath, create: false));
            }
            else
            {
                foreach (IGrouping<string, RelayMessage> group in _messages.GroupBy(message => message.SpoolPath, StringComparer.Ordinal))
                {
                    Forward(agent, SpoolDirectory.Open(group.Key, create: false), group.ToList());
                }
            }
        }
        finally
        {
            // The agent says QUIT on its idle connections; its log lines are written below.
            Wait(async _ =>
            {
                await agent.DisposeAsync().ConfigureAwait(false);
                return agent;
            });
        }
        PipelineQueue.RunPosted();
        // A -Continuous run ends only by Ctrl+C, which is no failure; its failures were reported as they came.
        if (_failedIds.Count > 0 && !Continuous)
        {
            ThrowTerminatingError(ErrorMapping.ForwardingFailed(_failedIds, FailedIdsNamed, To));
        }
    }

    private ForwardingAgent CreateAgent()
    {
        try
        {
            return new ForwardingAgent(_options);
        }
        catch (Exception error) when (ErrorMapping.TryMapForwardingStart(error, _options) is ErrorRecord record)
        {
            ThrowTerminatingError(record);
            throw;
        }
    }

    private void ForwardSpool(ForwardingAgent agent, SpoolDirectory spool)
    {
        bool whatIf = IsWhatIf();
        if (Continuous)
        {
            WriteVerbose("Forwarding every " + PollInterval + " until stopped.");
        }
        do
        {
            if (!whatIf)
            {
                // Claims a crashed forwarder left behind go back to Ready; live claims of others stay.
                (int returned, _) = spool.Recover();
                if (returned > 0)
                {
                    WriteVerbose("Returned " + returned + " abandoned claim(s) to Ready.");
                }
            }
            List<RelayMessage> ready = spool.Find(null, new[] { RelayMessageState.Ready })
                .OrderBy(message => message.Received)
                .ThenBy(message => message.Id, StringComparer.Ordinal)
                .ToList();
            Forward(agent, spool, ready);
        }
        while (Continuous && !whatIf && !StopToken.WaitHandle.WaitOne(PollInterval));
    }

    private void Forward(ForwardingAgent agent, SpoolDirectory spool, IReadOnlyList<RelayMessage> messages)
    {
        List<RelayMessage> approved = messages.Where(message => ShouldProcess(DescribeForward(message), "Forward")).ToList();
        if (approved.Count == 0)
        {
            WriteVerbose("Nothing to forward in " + spool.Path + ".");
            return;
        }
        var progress = new ForwardProgress(ProgressActivityId, To, approved);
        var byId = approved.ToDictionary(message => message.Id, StringComparer.Ordinal);
        WriteProgress(progress.Record);
        try
        {
            ForwardingSummary summary = PipelineQueue.Run(
                token => agent.ForwardAsync(spool, approved, result => PipelineQueue.Post(() => OnResult(result, progress, byId)), token),
                StopToken);
            WriteVerbose(summary.ToString());
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            // Ctrl+C: the agent has returned its unsent claims to Ready.
        }
        catch (Exception error) when (ErrorMapping.TryMapForwardingStart(error, _options) is ErrorRecord record)
        {
            ThrowTerminatingError(record);
        }
        finally
        {
            WriteProgress(progress.Complete());
        }
    }

    private void OnResult(ForwardResult result, ForwardProgress progress, IReadOnlyDictionary<string, RelayMessage> byId)
    {
        ProgressRecord redraw = progress.Add(result);
        if (redraw != null)
        {
            WriteProgress(redraw);
        }
        byId.TryGetValue(result.Id, out RelayMessage message);
        // The engine's log already has a line for each outcome; what is not Sent is also an error record,
        // so that -ErrorVariable, -ErrorAction and a scheduled task's exit code see it.
        if (result.Outcome != ForwardOutcome.Sent)
        {
            if (result.Outcome == ForwardOutcome.Failed)
            {
                _failedIds.Add(result.Id);
            }
            WriteError(ErrorMapping.ForwardResultError(result, (object)message ?? result.Id));
        }
        if (PassThru)
        {
            WriteObject(result);
        }
    }

    private string DescribeForward(RelayMessage message)
    {
        string hop = string.IsNullOrEmpty(message.ForwardToAddress) ? To.ToString() : message.ForwardToAddress;
        return message.Id + " from <" + message.From + "> to " + string.Join(", ", message.To) + " via " + hop;
    }

    private bool IsWhatIf()
    {
        if (MyInvocation.BoundParameters.TryGetValue("WhatIf", out object value))
        {
            return ((SwitchParameter)value).IsPresent;
        }
        return LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));
    }
}
