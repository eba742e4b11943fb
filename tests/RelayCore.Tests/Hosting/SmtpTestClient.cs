// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.Tests.Hosting;

/// <summary>A raw SMTP client for driving the server byte by byte; every read and write has a deadline.</summary>
internal sealed class SmtpTestClient : IDisposable
{
    private readonly Socket _socket;
    private Stream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private SmtpTestClient(Socket socket, Stream stream)
    {
        _socket = socket;
        _stream = stream;
    }

    internal static async Task<SmtpTestClient> ConnectAsync(IPEndPoint endPoint, IPEndPoint localEndPoint = null)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (localEndPoint != null)
        {
            socket.Bind(localEndPoint);
        }
        using var cancel = new CancellationTokenSource(TestServer.Deadline);
        await socket.ConnectAsync(endPoint, cancel.Token);
        return new SmtpTestClient(socket, new NetworkStream(socket, ownsSocket: true));
    }

    internal Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    internal async Task SendAsync(byte[] bytes)
    {
        using var cancel = new CancellationTokenSource(TestServer.Deadline);
        await _stream.WriteAsync(bytes, cancel.Token);
        await _stream.FlushAsync(cancel.Token);
    }

    /// <summary>Reads one whole reply (all its lines) and returns it with lines joined by LF; null at end of stream.</summary>
    internal async Task<string> ReadReplyAsync()
    {
        var lines = new List<string>();
        while (true)
        {
            string line = await ReadLineAsync();
            if (line == null)
            {
                return lines.Count == 0 ? null : string.Join("\n", lines);
            }
            lines.Add(line);
            if (line.Length < 4 || line[3] != '-')
            {
                return string.Join("\n", lines);
            }
        }
    }

    /// <summary>Sends a command line and reads its reply.</summary>
    internal async Task<string> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>Reads the greeting and says hello; returns the reply to the hello.</summary>
    internal async Task<string> GreetAsync(string hello = "EHLO client.example")
    {
        await ReadReplyAsync();
        return await CommandAsync(hello);
    }

    /// <summary>Sends MAIL and RCPT; the replies are not checked.</summary>
    internal async Task OpenTransactionAsync(string mail = "MAIL FROM:<a@b>", string rcpt = "RCPT TO:<c@d>")
    {
        await CommandAsync(mail);
        await CommandAsync(rcpt);
    }

    /// <summary>Sends DATA, the text and the end line; returns the final reply.</summary>
    internal async Task<string> DataAsync(string text)
    {
        await CommandAsync("DATA");
        return await CommandAsync(text + "\r\n.");
    }

    /// <summary>Greets, submits one message with DATA and returns the final reply.</summary>
    internal async Task<string> SubmitAsync(string from, string to, string text, string hello = "EHLO client.example")
    {
        await GreetAsync(hello);
        await OpenTransactionAsync("MAIL FROM:<" + from + ">", "RCPT TO:<" + to + ">");
        return await DataAsync(text);
    }

    /// <summary>Reads until the server closes the connection; true when it did within the deadline.</summary>
    internal async Task<bool> WaitForCloseAsync() => await WaitForCloseAsync(TestServer.Deadline);

    /// <summary>Reads until the server closes the connection; false when it stays open past <paramref name="wait"/>.</summary>
    internal async Task<bool> WaitForCloseAsync(TimeSpan wait)
    {
        try
        {
            while (await ReadLineAsync(wait) != null)
            {
            }
            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    internal async Task StartTlsAsync(RemoteCertificateValidationCallback validate = null)
    {
        var tls = new SslStream(_stream, leaveInnerStreamOpen: false, validate ?? ((sender, certificate, chain, errors) => true));
        using var cancel = new CancellationTokenSource(TestServer.Deadline);
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "relay.test" }, cancel.Token);
        _stream = tls;
    }

    internal bool IsConnected => _socket.Connected;

    private Task<string> ReadLineAsync() => ReadLineAsync(TestServer.Deadline);

    private async Task<string> ReadLineAsync(TimeSpan wait)
    {
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                string line = Encoding.UTF8.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            using var cancel = new CancellationTokenSource(wait);
            int count = await _stream.ReadAsync(_buffer.AsMemory(_end), cancel.Token);
            if (count == 0)
            {
                return null;
            }
            _end += count;
        }
    }

    public void Dispose() => _stream.Dispose();
}
