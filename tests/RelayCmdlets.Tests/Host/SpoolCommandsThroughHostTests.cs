// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Xunit;

namespace RelayCmdlets.Tests.Host;

/// <summary>The README's quick start: each spool command as its own relay process, on one spool.</summary>
public sealed class SpoolCommandsThroughHostTests
{
    [Fact]
    public void SubmitThenGetThenRemove_SeparateRelayRuns_StoreListAndDeleteTheMessage()
    {
        using var folder = new TempFolder();
        string spool = Path.Combine(folder.Path, "spool");

        RelayResult submitted = RelayProcess.Run(
            "Submit-RelayMessage", "-SpoolPath", spool, "-From", "alice@example.com", "-To", "bob@example.net",
            "-Subject", "Hello", "-Body", "'Hi Bob'");
        string[] envelopes = Directory.GetFiles(spool, "emailrelay.*.envelope");
        string id = Path.GetFileName(envelopes.Single()).Replace(".envelope", string.Empty);
        string content = File.ReadAllText(Path.Combine(spool, id + ".content"));
        RelayResult listed = RelayProcess.Run("Get-RelaySpool", "-SpoolPath", spool);
        RelayResult removed = RelayProcess.Run("Remove-RelayMessage", "-SpoolPath", spool, "-Id", id, "-Confirm:$false");

        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        Assert.Contains("Hi Bob", content);
        Assert.True(listed.ExitCode == 0, listed.ToString());
        Assert.Matches(new Regex("^" + Regex.Escape(id) + @"\s+Ready\s.*alice@example\.com\s+bob@example\.net", RegexOptions.Multiline), listed.Output);
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.Empty(Directory.GetFiles(spool));
    }
}
