// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;

namespace RelayCmdlets.Tests.Host;

/// <summary>One empty folder per test for scripts and spools, deleted afterwards.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = Directory.CreateTempSubdirectory("relay-host-test-").FullName;
    }

    public string Path { get; }

    /// <summary>Writes a file into the folder.</summary>
    /// <returns>The file's full path.</returns>
    public string Write(string name, string text)
    {
        string path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process killed mid-test may still hold a file; the OS temp cleaner gets the rest.
        }
    }
}
