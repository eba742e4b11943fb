// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using Xunit;
using Xunit.Abstractions;

namespace RelayCmdlets.Tests.Server;

/// <summary>Start-, Get- and Stop-RelayServer driving real servers on loopback in a real runspace.</summary>
[Collection(nameof(ServerLifecycleTests))]
public sealed class ServerLifecycleTests : IDisposable
{
    private static readonly TimeSpan s_deadline = TimeSpan.FromSeconds(15);
    private readonly ServerRunspace _shell = new ServerRunspace();
    private readonly ITestOutputHelper _output;
    private readonly string _name = ServerRunspace.UniqueName();

    public ServerLifecycleTests(ITestOutputHelper output)
    {
        _output = output;
    }

    [Fact]
    public void Start_PortZero_ReturnsRunningServerOnBoundPort()
    {
        int port = StartServer();

        Assert.NotEqual(0, port);
        Assert.True((bool)Scalar("$server.IsRunning"));
        Assert.Equal(_shell.SpoolPath, Scalar("$server.SpoolPath"));
        Assert.True(Directory.Exists(_shell.SpoolPath));
    }

    [Fact]
    public void Start_SwaksSubmits_GetRelaySpoolListsTheMessage()
    {
        if (!Swaks.IsAvailable(_output))
        {
            return;
        }
        int port = StartServer();

        Swaks.Submit(port, "alice@example.com", "bob@example.net");

        Assert.Equal("bob@example.net", Scalar("Get-RelaySpool -SpoolPath ./spool | Microsoft.PowerShell.Core\\ForEach-Object { $_.To }"));
    }

    [Fact]
    public void Get_AfterSwaksSubmits_ShowsUpdatedCounters()
    {
        if (!Swaks.IsAvailable(_output))
        {
            return;
        }
        int port = StartServer();

        Swaks.Submit(port, "alice@example.com", "bob@example.net");

        WaitUntil(() => Equals(Scalar($"(Get-RelayServer -Name {_name}).Accepted"), 1L), "Get-RelayServer to count the accepted message");
        Assert.Equal(1L, Scalar($"(Get-RelayServer -Name {_name}).ConnectionsTotal"));
        Assert.Equal(0L, Scalar($"(Get-RelayServer -Name {_name}).Rejected"));
        Assert.True((long)Scalar($"(Get-RelayServer -Name {_name}).BytesReceived") > 0);
    }

    [Fact]
    public void Get_AfterClientDropsMidData_CountsOneRejected()
    {
        int port = StartServer();

        DropInData(port);

        WaitUntil(() => Equals(Scalar($"(Get-RelayServer -Name {_name}).Rejected"), 1L), "Get-RelayServer to count the rejected message");
        Assert.Equal(0L, Scalar($"(Get-RelayServer -Name {_name}).Accepted"));
    }

    [Fact]
    public void Start_NameAlreadyRunning_ThrowsRelayServerNameInUse()
    {
        StartServer();

        ErrorRecord error = _shell.InvokeExpectingError($"Start-RelayServer -Name {_name} -SpoolPath ./spool2 -Port 0");

        Assert.Equal("RelayServerNameInUse,RelayCmdlets.StartRelayServerCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ResourceExists, error.CategoryInfo.Category);
    }

    [Fact]
    public void Start_PortInUse_ThrowsListenerBindFailed()
    {
        var occupier = new TcpListener(IPAddress.Loopback, 0);
        occupier.Start();
        try
        {
            int port = ((IPEndPoint)occupier.LocalEndpoint).Port;

            ErrorRecord error = _shell.InvokeExpectingError($"Start-RelayServer -Name {_name} -SpoolPath ./spool -ListenAddress 127.0.0.1 -Port {port}");

            Assert.Equal("ListenerBindFailed,RelayCmdlets.StartRelayServerCommand", error.FullyQualifiedErrorId);
        }
        finally
        {
            occupier.Stop();
        }
    }

    [Fact]
    public void Start_AfterFailedStart_NameIsFreeAgain()
    {
        _shell.InvokeExpectingError($"Start-RelayServer -Name {_name} -SpoolPath ./spool -Port 0 -TlsPort 0");

        int port = StartServer();

        Assert.NotEqual(0, port);
    }

    [Fact]
    public void Start_TlsPortWithoutCertificate_ThrowsInvalidServerOptions()
    {
        ErrorRecord error = _shell.InvokeExpectingError($"Start-RelayServer -Name {_name} -SpoolPath ./spool -TlsPort 0");

        Assert.Equal("InvalidServerOptions,RelayCmdlets.StartRelayServerCommand", error.FullyQualifiedErrorId);
    }

    [Fact]
    public void Start_CertificateFileNotACertificate_ThrowsCertificateInvalid()
    {
        File.WriteAllText(Path.Combine(_shell.Folder, "bad.pem"), "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");

        ErrorRecord error = _shell.InvokeExpectingError($"Start-RelayServer -Name {_name} -SpoolPath ./spool -Port 0 -CertificatePath bad.pem");

        Assert.Equal("CertificateInvalid,RelayCmdlets.StartRelayServerCommand", error.FullyQualifiedErrorId);
        Assert.Equal(Path.Combine(_shell.Folder, "bad.pem"), error.TargetObject);
    }

    [Fact]
    public void Start_SecretsFileWithBadLine_ThrowsSecretsFileInvalid()
    {
        File.WriteAllText(Path.Combine(_shell.Folder, "server.auth"), "server plain alice\n");

        ErrorRecord error = _shell.InvokeExpectingError($"Start-RelayServer -Name {_name} -SpoolPath ./spool -Port 0 -ServerSecretsPath server.auth");

        Assert.Equal("SecretsFileInvalid,RelayCmdlets.StartRelayServerCommand", error.FullyQualifiedErrorId);
        Assert.Equal(Path.Combine(_shell.Folder, "server.auth"), error.TargetObject);
    }

    [Fact]
    public void Start_SpoolPathIsAFile_ThrowsInvalidServerOptions()
    {
        File.WriteAllText(Path.Combine(_shell.Folder, "spool"), "a file, not a folder");

        ErrorRecord error = _shell.InvokeExpectingError($"Start-RelayServer -Name {_name} -SpoolPath ./spool -Port 0");

        Assert.Equal("InvalidServerOptions,RelayCmdlets.StartRelayServerCommand", error.FullyQualifiedErrorId);
    }

    [Fact]
    public void Start_PfxCertificateAndTlsPort_ListensForImplicitTls()
    {
        WritePfx("server.pfx", "right");
        _shell.SetVariable("password", Secure("right"));

        var tlsPort = (int)Scalar($"$server = Start-RelayServer -Name {_name} -SpoolPath ./spool -ListenAddress 127.0.0.1 -TlsPort 0 -CertificatePath server.pfx -CertificatePassword $password; $server.TlsEndpoints[0].Port");

        Assert.Empty(_shell.Invoke("$server.Endpoints"));
        Assert.StartsWith("220 ", ReadGreetingOverTls(tlsPort), StringComparison.Ordinal);
    }

    [Fact]
    public void Start_PfxWrongPassword_ThrowsCertificateInvalid()
    {
        WritePfx("server.pfx", "right");
        _shell.SetVariable("password", Secure("wrong"));

        ErrorRecord error = _shell.InvokeExpectingError($"Start-RelayServer -Name {_name} -SpoolPath ./spool -Port 0 -CertificatePath server.pfx -CertificatePassword $password");

        Assert.Equal("CertificateInvalid,RelayCmdlets.StartRelayServerCommand", error.FullyQualifiedErrorId);
        Assert.Equal(Path.Combine(_shell.Folder, "server.pfx"), error.TargetObject);
    }

    [Fact]
    public void Stop_ByName_StopsServerAndForgetsIt()
    {
        int port = StartServer();

        _shell.Invoke($"Stop-RelayServer -Name {_name}");

        Assert.False((bool)Scalar("$server.IsRunning"));
        Assert.Empty(_shell.Invoke($"Get-RelayServer -Name '{_name}*'"));
        Assert.False(CanConnect(port), "the stopped server still accepts connections");
    }

    [Fact]
    public void Stop_ByPipelineWithPassThru_EmitsTheStoppedServer()
    {
        StartServer();

        object name = Scalar("$server | Stop-RelayServer -PassThru | Microsoft.PowerShell.Core\\ForEach-Object { $_.Name }");

        Assert.Equal(_name, name);
        Assert.False((bool)Scalar("$server.IsRunning"));
    }

    [Fact]
    public void Stop_NameTabCompletion_OffersTheRunningServer()
    {
        StartServer();
        string line = "Stop-RelayServer -Name " + _name.Substring(0, 10);

        var completions = _shell.Invoke($"(TabExpansion2 -inputScript '{line}' -cursorColumn {line.Length}).CompletionMatches | Microsoft.PowerShell.Core\\ForEach-Object {{ $_.CompletionText }}");

        Assert.Equal(_name, Assert.Single(completions).BaseObject);
    }

    [Fact]
    public void Stop_WhatIf_LeavesServerRunning()
    {
        int port = StartServer();

        _shell.Invoke($"Stop-RelayServer -Name {_name} -WhatIf");

        Assert.True((bool)Scalar("$server.IsRunning"));
        Assert.True(CanConnect(port));
    }

    [Fact]
    public void Wait_StoppedFromAnotherRunspace_EmitsServerThenReturns()
    {
        using PowerShell waiting = StartWaiting(string.Empty, out IAsyncResult run);
        using var other = new ServerRunspace();
        WaitUntil(() => other.Invoke($"Get-RelayServer -Name '{_name}*'").Count == 1, "the -Wait server to start");

        other.Invoke($"Stop-RelayServer -Name {_name}");

        Assert.True(run.AsyncWaitHandle.WaitOne(s_deadline), "Start-RelayServer -Wait did not return after Stop-RelayServer");
        var output = waiting.EndInvoke(run);
        Assert.Equal(_name, Assert.Single(output).Properties["Name"].Value);
    }

    [Fact]
    public void Wait_PipelineStopped_StopsTheServer()
    {
        using PowerShell waiting = StartWaiting(string.Empty, out _);
        using var other = new ServerRunspace();
        WaitUntil(() => other.Invoke($"Get-RelayServer -Name '{_name}*'").Count == 1, "the -Wait server to start");
        var port = (int)Assert.Single(other.Invoke($"(Get-RelayServer -Name {_name}).Endpoints[0].Port")).BaseObject;

        waiting.Stop();

        Assert.False(CanConnect(port), "the server outlived its -Wait pipeline");
        Assert.Empty(other.Invoke($"Get-RelayServer -Name '{_name}*'"));
    }

    [Fact]
    public void Wait_Verbose_WritesTheServerLogAsVerbose()
    {
        using PowerShell waiting = StartWaiting("-Verbose", out IAsyncResult run);
        using var other = new ServerRunspace();
        WaitUntil(() => waiting.Streams.Verbose.ToArray().Any(record => record.Message.Contains("listening on 127.0.0.1:", StringComparison.Ordinal)), "the verbose start line");

        other.Invoke($"Stop-RelayServer -Name {_name}");

        Assert.True(run.AsyncWaitHandle.WaitOne(s_deadline), "Start-RelayServer -Wait did not return");
        waiting.EndInvoke(run);
    }

    [Fact]
    public void Wait_ClientDropsMidData_WritesWarningButNoVerbose()
    {
        using PowerShell waiting = StartWaiting(string.Empty, out IAsyncResult run);
        using var other = new ServerRunspace();
        WaitUntil(() => other.Invoke($"Get-RelayServer -Name '{_name}*'").Count == 1, "the -Wait server to start");
        var port = (int)Assert.Single(other.Invoke($"(Get-RelayServer -Name {_name}).Endpoints[0].Port")).BaseObject;

        DropInData(port);

        WaitUntil(() => waiting.Streams.Warning.ToArray().Any(record => record.Message.Contains("nothing stored", StringComparison.Ordinal)), "the warning about the dropped message");
        Assert.Empty(waiting.Streams.Verbose);
        other.Invoke($"Stop-RelayServer -Name {_name}");
        Assert.True(run.AsyncWaitHandle.WaitOne(s_deadline), "Start-RelayServer -Wait did not return");
    }

    public void Dispose() => _shell.Dispose();

    private int StartServer() =>
        (int)Scalar($"$server = Start-RelayServer -Name {_name} -SpoolPath ./spool -ListenAddress 127.0.0.1 -Port 0; $server.Endpoints[0].Port");

    private PowerShell StartWaiting(string extraArguments, out IAsyncResult run)
    {
        PowerShell waiting = _shell.CreatePowerShell();
        waiting.AddScript($"Start-RelayServer -Name {_name} -SpoolPath ./spool -ListenAddress 127.0.0.1 -Port 0 -Wait {extraArguments}");
        run = waiting.BeginInvoke();
        return waiting;
    }

    private object Scalar(string script) => Assert.Single(_shell.Invoke(script)).BaseObject;

    private static void WaitUntil(Func<bool> condition, string what) =>
        Assert.True(SpinWait.SpinUntil(condition, s_deadline), "Timed out waiting for " + what + ".");

    // A self-signed certificate for localhost, made for this test only.
    private void WritePfx(string fileName, string password)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        File.WriteAllBytes(Path.Combine(_shell.Folder, fileName), certificate.Export(X509ContentType.Pfx, password));
    }

    private static string ReadGreetingOverTls(int port)
    {
        using var timeout = new CancellationTokenSource(s_deadline);
        using var client = new TcpClient();
        client.ConnectAsync(IPAddress.Loopback, port, timeout.Token).AsTask().Wait(timeout.Token);
        // The test's own self-signed certificate: trust it.
        using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, (_, _, _, _) => true);
        tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, timeout.Token).Wait(timeout.Token);
        using var reader = new StreamReader(tls, Encoding.ASCII);
        return reader.ReadLineAsync(timeout.Token).AsTask().GetAwaiter().GetResult();
    }

    private static SecureString Secure(string text)
    {
        var secure = new SecureString();
        foreach (char character in text)
        {
            secure.AppendChar(character);
        }
        secure.MakeReadOnly();
        return secure;
    }

    // Starts a message and hangs up in the middle of its content.
    private static void DropInData(int port)
    {
        using var timeout = new CancellationTokenSource(s_deadline);
        using var client = new TcpClient();
        client.ConnectAsync(IPAddress.Loopback, port, timeout.Token).AsTask().Wait(timeout.Token);
        using NetworkStream stream = client.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        ExpectReply(reader, "220", timeout.Token);
        foreach ((string command, string reply) in new[] { ("EHLO test", "250"), ("MAIL FROM:<a@example.com>", "250"), ("RCPT TO:<b@example.net>", "250"), ("DATA", "354") })
        {
            writer.WriteLine(command);
            ExpectReply(reader, reply, timeout.Token);
        }
        writer.Write("Subject: cut short\r\n\r\nhalf a bo");
    }

    private static void ExpectReply(StreamReader reader, string code, CancellationToken cancellationToken)
    {
        string line;
        do
        {
            line = reader.ReadLineAsync(cancellationToken).AsTask().GetAwaiter().GetResult();
            Assert.NotNull(line);
        }
        while (line.Length > 3 && line[3] == '-');
        Assert.StartsWith(code, line, StringComparison.Ordinal);
    }

    private static bool CanConnect(int port)
    {
        using var client = new TcpClient();
        try
        {
            return client.ConnectAsync(IPAddress.Loopback, port).Wait(s_deadline) && client.Connected;
        }
        catch (AggregateException error) when (error.InnerException is SocketException)
        {
            return false;
        }
    }
}
