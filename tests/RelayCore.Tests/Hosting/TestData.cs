// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;

namespace RelayCore.Tests.Hosting;

/// <summary>Finds the shared ground-truth files written by E-MailRelay 2.6b.</summary>
internal static class TestData
{
    internal static string EmailRelayDirectory
    {
        get
        {
            // The repository sits beside ../shared (a worktree has a 'shared' link beside it too).
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Relay.slnx")))
                {
                    string candidate = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "testdata", "emailrelay-2.6b"));
                    if (Directory.Exists(candidate))
                    {
                        return candidate;
                    }
                }
            }
            throw new DirectoryNotFoundException("The shared test data (../shared/testdata/emailrelay-2.6b beside the repository) was not found.");
        }
    }

    internal static string SecretsPath(string name) => Path.Combine(EmailRelayDirectory, "secrets", name);
}
