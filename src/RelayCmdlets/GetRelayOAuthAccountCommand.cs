// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Management.Automation;
using RelayCore.OAuth;

namespace RelayCmdlets;

/// <summary>
/// Reads stored OAuth2 account files and shows their provider, tenant, client, mailbox and file permissions,
/// never their secrets: <c>Get-RelayOAuthAccount</c>. A file others can read is refused, as forwarding refuses it.
/// </summary>
[Cmdlet(VerbsCommon.Get, "RelayOAuthAccount")]
[OutputType(typeof(RelayOAuthAccount))]
public sealed class GetRelayOAuthAccountCommand : RelayCmdlet
{
    /// <summary>The account files.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; }

    /// <summary>Reads each file; one non-terminating error per file that cannot be used.</summary>
    protected override void ProcessRecord()
    {
        foreach (string item in Path)
        {
            string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(item);
            try
            {
                WriteObject(new RelayOAuthAccount(OAuthAccount.Load(path), path));
            }
            catch (Exception error) when (ErrorMapping.TryMapOAuthAccount(error, path) is ErrorRecord record)
            {
                WriteError(record);
            }
        }
    }
}
