// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Spool;

namespace RelayCore.Tests.Spool;

/// <summary>One empty spool directory per test, deleted afterwards.</summary>
internal sealed class TempSpool : IDisposable
{
    internal TempSpool()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "relay-spool-test-" + Guid.NewGuid().ToString("N"));
        Spool = SpoolDirectory.Open(Path, create: true);
    }

    internal string Path { get; }

    internal SpoolDirectory Spool { get; }

    /// <summary>The E-MailRelay 2.6b spool files, kept beside this source file.</summary>
    internal static string EmailRelayDataDirectory([CallerFilePath] string sourceFile = "") =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(sourceFile), "TestData", "emailrelay-2.6b");

    internal string FilePath(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>Receives and commits one message with the given body and one recipient.</summary>
    internal async Task<RelayMessage> CommitAsync(string body, string to = "bob@example.net")
    {
        using IncomingMessage incoming = Receive(body, to);
        return await incoming.CommitAsync(CancellationToken.None);
    }

    /// <summary>A receipt with its content and envelope written, not yet committed.</summary>
    internal IncomingMessage Receive(string body, string to = "bob@example.net")
    {
        IncomingMessage incoming = Spool.CreateMessage();
        byte[] bytes = Encoding.ASCII.GetBytes(body);
        incoming.Content.Write(bytes, 0, bytes.Length);
        incoming.Envelope.From = "alice@example.com";
        incoming.Envelope.ToRemote.Add(to);
        incoming.Envelope.Client = "127.0.0.1";
        return incoming;
    }

    /// <summary>Writes a message's two files directly, as another process or an older version would have.</summary>
    internal void WriteFiles(string id, RelayMessageState state, string envelopeText, string content)
    {
        File.WriteAllText(FilePath(id + SpoolDirectory.ContentSuffix), content);
        File.WriteAllText(FilePath(SpoolDirectory.EnvelopeFileName(id, state)), envelopeText);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A failing test may leave a file open; the OS temp cleaner gets the rest.
        }
    }
}
