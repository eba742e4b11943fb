// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace AuthSink;

/// <summary>
/// One SMTP session of the sink: EHLO offers PIPELINING and AUTH PLAIN XOAUTH2 (no STARTTLS), mail is
/// taken only after a login, and message data is counted and discarded. Replies are written when the
/// client has nothing more buffered, so a pipelining client gets them in one write.
/// </summary>
internal sealed class SmtpSession
{
    private const int BufferSize = 64 * 1024;
    private static readonly TimeSpan s_idle = TimeSpan.FromMinutes(2);
    private static readonly byte[] s_ehlo = Encoding.ASCII.GetBytes(
        "250-auth-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SIZE 104857600\r\n250 AUTH PLAIN XOAUTH2\r\n");

    // The standard error of a refused bearer token (Google's form), sent base64 in a 334 before the 535.
    private static readonly string s_tokenError = Convert.ToBase64String(Encoding.UTF8.GetBytes("{\"status\":\"401\",\"schemes\":\"Bearer\",\"scope\":\"https://mail.google.com/\"}"));

    private readonly Socket _socket;
    private readonly SinkState _state;
    private readonly byte[] _in = new byte[BufferSize];
    private readonly byte[] _out = new byte[BufferSize];
    private int _start;
    private int _end;
    private int _outLength;
    private bool _authenticated;
    private bool _inData;
    private long _dataBytes;
    private string _pendingAuth;

    internal SmtpSession(Socket socket, SinkState state)
    {
        _socket = socket;
        _state = state;
    }

    internal async Task RunAsync(CancellationToken cancellationToken)
    {
        using (_socket)
        {
            Reply("220 auth-sink ESMTP");
            while (!cancellationToken.IsCancellationRequested)
            {
                int newline = Array.IndexOf(_in, (byte)'\n', _start, _end - _start);
                if (newline < 0)
                {
                    if (!await FillAsync(cancellationToken))
                    {
                        return;
                    }
                    continue;
                }
                int length = newline + 1 - _start;
                int start = _start;
                _start = newline + 1;
                if (_inData)
                {
                    EndOfData(start, length);
                    continue;
                }
                if (!Command(Encoding.ASCII.GetString(_in, start, length).TrimEnd('\r', '\n')))
                {
                    await FlushAsync(cancellationToken);
                    return;
                }
            }
        }
    }

    /// <summary>Counts a data line; the lone dot ends the message.</summary>
    private void EndOfData(int start, int length)
    {
        bool isEnd = (length == 3 && _in[start] == '.' && _in[start + 1] == '\r') || (length == 2 && _in[start] == '.');
        if (!isEnd)
        {
            _dataBytes += length;
            return;
        }
        _inData = false;
        _state.Message(_dataBytes);
        Reply("250 2.0.0 OK discarded");
    }

    /// <summary>Answers one command line; false when the session is to end.</summary>
    private bool Command(string line)
    {
        if (_pendingAuth != null)
        {
            string mechanism = _pendingAuth;
            _pendingAuth = null;
            if (mechanism == "XOAUTH2-ERROR")
            {
                Reply("535 5.7.8 Username and Password not accepted");
                return true;
            }
            Authenticate(mechanism, line);
            return true;
        }
        string verb = line.Length >= 4 ? line.Substring(0, 4).ToUpperInvariant() : line.ToUpperInvariant();
        switch (verb)
        {
            case "EHLO":
                Write(s_ehlo);
                return true;
            case "HELO":
                Reply("250 auth-sink");
                return true;
            case "AUTH":
                StartAuthentication(line);
                return true;
            case "MAIL":
            case "RCPT":
                Reply(_authenticated ? "250 2.1.0 OK" : "530 5.7.0 Authentication required");
                return true;
            case "DATA":
                if (!_authenticated)
                {
                    Reply("530 5.7.0 Authentication required");
                    return true;
                }
                _inData = true;
                _dataBytes = 0;
                Reply("354 End data with <CR><LF>.<CR><LF>");
                return true;
            case "RSET":
            case "NOOP":
                Reply("250 2.0.0 OK");
                return true;
            case "QUIT":
                Reply("221 2.0.0 Bye");
                return false;
            default:
                Reply("500 5.5.2 Command not recognised");
                return true;
        }
    }

    private void StartAuthentication(string line)
    {
        string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string mechanism = words.Length > 1 ? words[1].ToUpperInvariant() : string.Empty;
        if (mechanism != "PLAIN" && mechanism != "XOAUTH2")
        {
            Reply("504 5.5.4 Unrecognized authentication type");
            return;
        }
        if (words.Length < 3)
        {
            _pendingAuth = mechanism;
            Reply("334 ");
            return;
        }
        Authenticate(mechanism, words[2]);
    }

    private void Authenticate(string mechanism, string response)
    {
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(response));
        }
        catch (FormatException)
        {
            _state.Login(mechanism, false);
            Reply("501 5.5.2 Cannot decode the response");
            return;
        }
        bool ok = mechanism == "PLAIN" ? CheckPlain(decoded) : CheckXOAuth2(decoded);
        _state.Login(mechanism, ok);
        _authenticated = ok;
        if (ok)
        {
            Reply("235 2.7.0 Accepted");
        }
        else if (mechanism == "XOAUTH2")
        {
            _pendingAuth = "XOAUTH2-ERROR";
            Reply("334 " + s_tokenError);
        }
        else
        {
            Reply("535 5.7.8 Username and Password not accepted");
        }
    }

    /// <summary>RFC 4616: authzid NUL authcid NUL passwd.</summary>
    private bool CheckPlain(string decoded)
    {
        string[] parts = decoded.Split('\0');
        return parts.Length == 3 && parts[1] == _state.User && parts[2] == _state.Password;
    }

    /// <summary>XOAUTH2: <c>user=U ^A auth=Bearer T ^A ^A</c> with a token the endpoint issued.</summary>
    private bool CheckXOAuth2(string decoded)
    {
        string user = null, token = null;
        foreach (string field in decoded.Split('\x01'))
        {
            if (field.StartsWith("user=", StringComparison.Ordinal))
            {
                user = field.Substring(5);
            }
            else if (field.StartsWith("auth=Bearer ", StringComparison.Ordinal))
            {
                token = field.Substring(12);
            }
        }
        return user == _state.User && token != null && _state.Tokens.ContainsKey(token);
    }

    private void Reply(string text) => Write(Encoding.ASCII.GetBytes(text + "\r\n"));

    private void Write(byte[] bytes)
    {
        if (_outLength + bytes.Length > _out.Length)
        {
            throw new InvalidOperationException("The client pipelined more replies than the sink buffers.");
        }
        Buffer.BlockCopy(bytes, 0, _out, _outLength, bytes.Length);
        _outLength += bytes.Length;
    }

    /// <summary>Writes the replies owed, then reads more input; false at the end of the connection.</summary>
    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
        if (_start > 0)
        {
            Buffer.BlockCopy(_in, _start, _in, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _in.Length)
        {
            // A line longer than the buffer: no client of the bench sends one.
            return false;
        }
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        idle.CancelAfter(s_idle);
        int read;
        try
        {
            read = await _socket.ReceiveAsync(_in.AsMemory(_end), SocketFlags.None, idle.Token);
        }
        catch (Exception error) when (error is SocketException || error is OperationCanceledException)
        {
            return false;
        }
        _end += read;
        return read > 0;
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        int sent = 0;
        while (sent < _outLength)
        {
            sent += await _socket.SendAsync(_out.AsMemory(sent, _outLength - sent), SocketFlags.None, cancellationToken);
        }
        _outLength = 0;
    }
}
