// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;

namespace RelayCmdlets.Tests;

/// <summary>The source tree the tests were built from.</summary>
public static class Repository
{
    /// <summary>The folder holding Relay.slnx, found above the test binaries.</summary>
    public static string Root
    {
        get
        {
            for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder != null; folder = folder.Parent)
            {
                if (File.Exists(Path.Combine(folder.FullName, "Relay.slnx")))
                {
                    return folder.FullName;
                }
            }
            throw new DirectoryNotFoundException("No Relay.slnx above " + AppContext.BaseDirectory + ".");
        }
    }
}
