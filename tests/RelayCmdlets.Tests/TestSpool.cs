// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;

namespace RelayCmdlets.Tests;

/// <summary>A temporary spool directory for one test, deleted afterwards; optionally a copy of E-MailRelay's own spool.</summary>
public sealed class TestSpool : IDisposable
{
    /// <summary>The bad message of the E-MailRelay test data (two Reason lines).</summary>
    public const string BadMessageId = "emailrelay.32054.1795422460.1";

    /// <summary>The message emailrelay-submit wrote in the test data.</summary>
    public const string SubmittedMessageId = "emailrelay.32064.1795422460.1";

    private TestSpool(string path) => Path = path;

    /// <summary>The spool directory.</summary>
    public string Path { get; }

    /// <summary>The spool written by E-MailRelay 2.6b, as the repository keeps it for the engine tests.</summary>
    public static string EmailRelaySpool => System.IO.Path.Combine(Repository.Root, "tests", "RelayCore.Tests", "Spool", "TestData", "emailrelay-2.6b");

    /// <summary>Creates an empty spool.</summary>
    /// <returns>The spool.</returns>
    public static TestSpool CreateEmpty()
    {
        string path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "relay-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return new TestSpool(path);
    }

    /// <summary>Creates a spool holding a copy of E-MailRelay's test data spool (six messages, one Bad).</summary>
    /// <returns>The spool.</returns>
    public static TestSpool CopyOfEmailRelaySpool()
    {
        TestSpool spool = CreateEmpty();
        foreach (string file in Directory.GetFiles(EmailRelaySpool, "emailrelay.*"))
        {
            System.IO.File.Copy(file, System.IO.Path.Combine(spool.Path, System.IO.Path.GetFileName(file)));
        }
        return spool;
    }

    /// <summary>The full path of a file in the spool.</summary>
    /// <param name="name">The file name.</param>
    /// <returns>The path.</returns>
    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Deletes the directory.</summary>
    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
