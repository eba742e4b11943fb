// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Reflection;
using RelayCore.Forwarding;
using RelayCore.Net;

namespace RelayCmdlets;

/// <summary>
/// The base of the cmdlets that forward (Invoke-RelayForward, Start-RelayServer): the connection
/// parameters of <see cref="RelayConnectionCmdlet"/> plus those about sending the mail itself.
/// </summary>
public abstract class RelayForwardingCmdlet : RelayConnectionCmdlet
{
    /// <summary>The names of the connection and forwarding parameters: the ones that only mean something when there is a next hop.</summary>
    internal static IReadOnlyList<string> ForwardingParameterNames { get; } = typeof(RelayForwardingCmdlet)
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(property => property.DeclaringType == typeof(RelayForwardingCmdlet) || property.DeclaringType == typeof(RelayConnectionCmdlet))
        .Where(property => property.IsDefined(typeof(ParameterAttribute), inherit: false))
        .Select(property => property.Name)
        .ToArray();

    /// <summary>The most connections open to one next hop at once.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int ThrottleLimit { get; set; }

    /// <summary>Sends to the recipients the next hop accepts and keeps the rejected ones in a Bad message (E-MailRelay's --forward-to-some).</summary>
    [Parameter]
    public SwitchParameter ForwardToSome { get; set; }

    /// <summary>The one envelope sender (MAIL FROM) for every message (the Email Redirector's one-account mode); content untouched.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string EnvelopeFrom { get; set; }

    /// <summary>Adds the forwarding parameters to the connection options.</summary>
    /// <param name="nextHop">The default next hop.</param>
    /// <returns>The options.</returns>
    protected override ForwardingOptions BuildForwardingOptions(NextHopAddress nextHop)
    {
        ForwardingOptions options = base.BuildForwardingOptions(nextHop);
        options.ForwardToSome = ForwardToSome;
        options.EnvelopeFrom = EnvelopeFrom;
        if (IsBound(nameof(ThrottleLimit)))
        {
            options.MaxConnections = ThrottleLimit;
        }
        return options;
    }

    /// <summary>A terminating error for forwarding parameters given without a next hop (Start-RelayServer without -ForwardTo).</summary>
    /// <param name="nextHopParameter">The name of the parameter that gives the next hop.</param>
    protected void RejectForwardingParametersWithoutNextHop(string nextHopParameter)
    {
        string stray = ForwardingParameterNames.FirstOrDefault(IsBound);
        if (stray != null)
        {
            ThrowTerminatingError(ErrorMapping.InvalidForwardingParameters(
                "-" + stray + " applies to forwarding: give -" + nextHopParameter + " too.", stray));
        }
    }
}
