// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;

namespace RelayCore.Net;

/// <summary>One listening socket and its accept loop.</summary>
internal sealed class SmtpListener : IDisposable
{
    private static readonly TimeSpan s_acceptRetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly Socket _socket;
    private volatile bool _isStopped;

    private SmtpListener(Socket socket, bool isImplicitTls)
    {
        _socket = socket;
        IsImplicitTls = isImplicitTls;
        EndPoint = (IPEndPoint)socket.LocalEndPoint;
    }

    /// <summary>The address and the port actually bound.</summary>
    internal IPEndPoint EndPoint { get; }

    /// <summary>Whether connections start with a TLS handshake (SMTPS, RFC 8314).</summary>
    internal bool IsImplicitTls { get; }

    /// <summary>Binds and listens.</summary>
    /// <exception cref="SocketException">The address or port cannot be bound.</exception>
    internal static SmtpListener Bind(IPEndPoint endPoint, bool isImplicitTls)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                // '::' means IPv6 only; IPv4 is bound separately when asked for.
                socket.DualMode = false;
            }
            socket.Bind(endPoint);
            socket.Listen(1024);
            return new SmtpListener(socket, isImplicitTls);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Accepts until <see cref="Dispose"/>; each accepted socket goes to <paramref name="onAccepted"/>.</summary>
    /// <param name="onAccepted">Takes ownership of the socket; must not block.</param>
    /// <param name="onError">Told about accept failures that are retried (for example too many open files).</param>
    internal async Task RunAsync(Action<Socket, SmtpListener> onAccepted, Action<Exception> onError)
    {
        while (!_isStopped)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException error)
            {
                if (_isStopped)
                {
                    return;
                }
                onError(error);
                await Task.Delay(s_acceptRetryDelay).ConfigureAwait(false);
                continue;
            }
            try
            {
                client.NoDelay = true;
                onAccepted(client, this);
            }
            catch (Exception error) when (error is SocketException || error is IOException || error is ObjectDisposedException)
            {
                // The client vanished between accept and set-up: drop it, keep accepting.
                client.Dispose();
                onError(error);
            }
        }
    }

    /// <summary>Stops listening; the accept loop ends.</summary>
    public void Dispose()
    {
        _isStopped = true;
        _socket.Dispose();
    }
}
