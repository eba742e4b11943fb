// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Concurrent;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCmdlets.Tests.Durability;

/// <summary>
/// One raw-socket SMTP client sending <see cref="CrashTestMessage"/>s in a loop until the server
/// goes away, recording each message's spool id only once its 250 has been read.
/// </summary>
internal sealed class LoadSession
{
    /// <summary>Every wait for the server; a live server on a loaded machine answers far sooner.</summary>
    private static readonly TimeSpan s_replyTimeout = TimeSpan.FromSeconds(15);

    private readonly int _session;
    private readonly int _port;
    private readonly ConcurrentDictionary<string, Acknowledged> _acknowledged;
    private readonly byte[] _buffer = new byte[4096];
    private int _buffered;
    private int _consumed;

    public LoadSession(int session, int port, ConcurrentDictionary<string, Acknowledged> acknowledged)
    {
        _session = session;
        _port = port;
        _acknowledged = acknowledged;
    }

    /// <summary>
    /// The relay command line of the daemon under load: loopback only, a port the OS picks (found
    /// with <see cref="Server.HostWaitTests.WaitForListeningPort"/>), verbose so that it says where.
    /// </summary>
    public static string[] DaemonCommand(string spool) =>
        ["Start-RelayServer", "-Name", Server.ServerRunspace.UniqueName(), "-ListenAddress", "127.0.0.1", "-Port", "0", "-SpoolPath", spool, "-Wait", "-Verbose"];

    /// <summary>A message the server acknowledged: its marker and the exact bytes sent.</summary>
    internal sealed record Acknowledged(string Sequence, byte[] Sent);

    /// <summary>How many messages this session had started when it ended.</summary>
    public int Started { get; private set; }

    /// <summary>Why the session ended (the server's death shows as a reset or end of stream).</summary>
    public string EndReason { get; private set; }

    /// <summary>Sends messages until the connection breaks or <paramref name="maxMessages"/> are sent.</summary>
    /// <param name="maxMessages">Bounds the session however fast the server is.</param>
    /// <param name="onAcknowledged">Called after each 250 to a message.</param>
    /// <param name="serverKilled">Whether the server was killed: only then is a broken connection the expected end.</param>
    /// <exception cref="InvalidDataException">The server gave an unexpected reply: a product bug, not a crash.</exception>
    public async Task RunAsync(int maxMessages, Action onAcknowledged, Func<bool> serverKilled)
    {
        try
        {
            using var client = new TcpClient(AddressFamily.InterNetwork) { NoDelay = true };
            await WithTimeout(token => client.ConnectAsync(IPAddress.Loopback, _port, token).AsTask());
            NetworkStream stream = client.GetStream();
            await ExpectAsync(stream, "220");
            await SendAsync(stream, "EHLO load" + _session + ".example.com\r\n");
            await ExpectAsync(stream, "250");
            string from = "load" + _session + "@example.com";
            while (Started < maxMessages)
            {
                byte[] message = CrashTestMessage.Build(_session, Started);
                Started++;
                // PIPELINING: the envelope and DATA in one write, as busy clients send them.
                await SendAsync(stream, "MAIL FROM:<" + from + ">\r\nRCPT TO:<sink@example.net>\r\nDATA\r\n");
                await ExpectAsync(stream, "250");
                await ExpectAsync(stream, "250");
                await ExpectAsync(stream, "354");
                await WithTimeout(token => stream.WriteAsync(message, token).AsTask());
                await SendAsync(stream, ".\r\n");
                string reply = await ExpectAsync(stream, "250");
                int idAt = reply.IndexOf("id=", StringComparison.Ordinal);
                if (idAt < 0)
                {
                    throw new InvalidDataException("session " + _session + ": the 250 after DATA names no id: " + reply);
                }
                string id = reply.Substring(idAt + 3).Trim();
                if (!_acknowledged.TryAdd(id, new Acknowledged(CrashTestMessage.Sequence(_session, Started - 1), message)))
                {
                    throw new InvalidDataException("session " + _session + ": the id " + id + " was acknowledged twice");
                }
                onAcknowledged();
            }
            EndReason = "sent its " + maxMessages + " messages";
        }
        catch (Exception error) when (serverKilled() && (error is IOException || error is SocketException || error is OperationCanceledException))
        {
            EndReason = error.GetType().Name + ": " + error.Message;
        }
    }

    private static async Task WithTimeout(Func<CancellationToken, Task> operation)
    {
        using var timeout = new CancellationTokenSource(s_replyTimeout);
        await operation(timeout.Token);
    }

    private static Task SendAsync(NetworkStream stream, string text) =>
        WithTimeout(token => stream.WriteAsync(Encoding.ASCII.GetBytes(text), token).AsTask());

    /// <summary>Reads one reply (all its lines) and checks its code.</summary>
    /// <returns>The reply's last line.</returns>
    private async Task<string> ExpectAsync(NetworkStream stream, string code)
    {
        while (true)
        {
            string line = await ReadLineAsync(stream);
            if (!line.StartsWith(code, StringComparison.Ordinal) || line.Length < 4)
            {
                throw new InvalidDataException("session " + _session + ": expected " + code + " but the server said: " + line);
            }
            if (line[3] == ' ')
            {
                return line;
            }
        }
    }

    private async Task<string> ReadLineAsync(NetworkStream stream)
    {
        var line = new StringBuilder();
        while (true)
        {
            if (_consumed == _buffered)
            {
                using var timeout = new CancellationTokenSource(s_replyTimeout);
                _buffered = await stream.ReadAsync(_buffer, timeout.Token);
                _consumed = 0;
                if (_buffered == 0)
                {
                    throw new EndOfStreamException("the server closed the connection" + (line.Length > 0 ? " mid-line: " + line : string.Empty));
                }
            }
            char next = (char)_buffer[_consumed++];
            if (next == '\n' && line.Length > 0 && line[^1] == '\r')
            {
                return line.ToString(0, line.Length - 1);
            }
            line.Append(next);
        }
    }
}
