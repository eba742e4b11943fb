// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

using RelayCore.Tests.OAuth;

namespace AuthSink;

/// <summary>
/// A fast next hop for bench/forward-auth.sh: <c>AuthSink &lt;user&gt; &lt;password&gt; &lt;ca-pem-out&gt;</c> listens on
/// 127.0.0.1 (plain SMTP, no STARTTLS), takes mail only after AUTH PLAIN with the account or AUTH XOAUTH2 as
/// the user with a token that the tests' HTTPS token endpoint (run here on loopback) issued, and discards it.
/// Writes the endpoint's CA certificate to the PEM file, prints one <c>READY</c> line with the SMTP port and the
/// <c>--xoauth2</c> account for bench/forward-agent, and on SIGTERM one <c>STATISTICS</c> line.
/// </summary>
internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args.Length != 3)
        {
            Console.Error.WriteLine("usage: AuthSink <user> <password> <ca-pem-out>");
            return 2;
        }
        var state = new SinkState(args[0], args[1]);
        using var stop = new CancellationTokenSource();
        using var endpoint = new TokenEndpoint { Issued = token => state.Tokens[token] = true };
        File.WriteAllText(args[2], endpoint.Authority.ExportCertificatePem() + "\n");
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(1024);
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Console.WriteLine("READY smtp=" + port + " xoauth2=" + string.Join(",", endpoint.TokenUrl, args[2], TokenEndpoint.ClientId, TokenEndpoint.ClientSecret, endpoint.CurrentRefreshToken, state.User));
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            stop.Cancel();
        }
        using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal))
        using (PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal))
        {
            await AcceptAsync(listener, state, stop.Token);
        }
        Console.WriteLine(state.Statistics(endpoint.TokenRequests));
        return 0;
    }

    private static async Task AcceptAsync(TcpListener listener, SinkState state, CancellationToken cancellationToken)
    {
        using (cancellationToken.Register(listener.Stop))
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptSocketAsync(cancellationToken);
                }
                catch (Exception error) when (error is OperationCanceledException || error is SocketException || error is ObjectDisposedException)
                {
                    return;
                }
                socket.NoDelay = true;
                _ = Task.Run(() => ServeAsync(socket, state, cancellationToken), CancellationToken.None);
            }
        }
    }

    private static async Task ServeAsync(Socket socket, SinkState state, CancellationToken cancellationToken)
    {
        try
        {
            await new SmtpSession(socket, state).RunAsync(cancellationToken);
        }
        catch (Exception error) when (error is SocketException || error is OperationCanceledException || error is InvalidOperationException)
        {
            Console.Error.WriteLine("session: " + error.Message);
        }
    }
}
