// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Management.Automation;
using Xunit;

namespace RelayCmdlets.Tests.Server;

/// <summary>Start-, Stop- and Get-RelayServer refusing bad input before any server starts.</summary>
public sealed class ParameterValidationTests : System.IDisposable
{
    private const string StartCommand = "RelayCmdlets.StartRelayServerCommand";
    private readonly ServerRunspace _shell = new ServerRunspace();

    [Theory]
    [InlineData("-Port 65536")]
    [InlineData("-Port -1")]
    [InlineData("-TlsPort 70000")]
    [InlineData("-MaxLineLength 100")]
    [InlineData("-MaxConnections 0")]
    [InlineData("-MaxRecipients 0")]
    [InlineData("-MaxBadCommands 0")]
    [InlineData("-MaxMessageSize -1")]
    [InlineData("-Name ''")]
    [InlineData("-Name 'relay*'")]
    [InlineData("-Name 'relay[1]'")]
    public void Start_ArgumentOutOfRange_FailsValidation(string arguments)
    {
        ErrorRecord error = _shell.InvokeExpectingError("Start-RelayServer -SpoolPath ./spool " + arguments);

        Assert.Equal("ParameterArgumentValidationError," + StartCommand, error.FullyQualifiedErrorId);
    }

    [Theory]
    [InlineData("-IdleTimeout 30")]
    [InlineData("-IdleTimeout 2.00:00:00")]
    [InlineData("-ShutdownGracePeriod 30")]
    [InlineData("-ShutdownGracePeriod 02:00:00")]
    public void Start_TimeSpanOutOfRangeOrBareNumber_FailsValidation(string arguments)
    {
        ErrorRecord error = _shell.InvokeExpectingError("Start-RelayServer -SpoolPath ./spool " + arguments);

        Assert.Equal("ParameterArgumentValidationError," + StartCommand, error.FullyQualifiedErrorId);
    }

    [Fact]
    public void Start_ListenAddressNotAnIpAddress_FailsBinding()
    {
        ErrorRecord error = _shell.InvokeExpectingError("Start-RelayServer -SpoolPath ./spool -ListenAddress mail.example.com");

        Assert.Equal("CannotConvertArgumentNoMessage," + StartCommand, error.FullyQualifiedErrorId);
    }

    [Fact]
    public void Start_MissingCertificateRelativePath_ThrowsCertificateNotFoundForResolvedPath()
    {
        ErrorRecord error = _shell.InvokeExpectingError("Start-RelayServer -SpoolPath ./spool -Port 0 -CertificatePath missing.pem");

        Assert.Equal("CertificateNotFound," + StartCommand, error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal(Path.Combine(_shell.Folder, "missing.pem"), error.TargetObject);
    }

    [Fact]
    public void Start_MissingCertificateKey_ThrowsCertificateNotFound()
    {
        File.WriteAllText(Path.Combine(_shell.Folder, "cert.pem"), "not used");

        ErrorRecord error = _shell.InvokeExpectingError("Start-RelayServer -SpoolPath ./spool -Port 0 -CertificatePath cert.pem -CertificateKeyPath missing.key");

        Assert.Equal("CertificateNotFound," + StartCommand, error.FullyQualifiedErrorId);
        Assert.Equal(Path.Combine(_shell.Folder, "missing.key"), error.TargetObject);
    }

    [Fact]
    public void Start_MissingSecretsFile_ThrowsSecretsFileNotFound()
    {
        ErrorRecord error = _shell.InvokeExpectingError("Start-RelayServer -SpoolPath ./spool -Port 0 -ServerSecretsPath ./missing.auth");

        Assert.Equal("SecretsFileNotFound," + StartCommand, error.FullyQualifiedErrorId);
        Assert.Equal(Path.Combine(_shell.Folder, "missing.auth"), error.TargetObject);
    }

    [Fact]
    public void Start_WhatIf_CreatesNoSpoolAndStartsNothing()
    {
        string name = ServerRunspace.UniqueName();

        _shell.Invoke("Start-RelayServer -Name " + name + " -SpoolPath ./spool -Port 0 -WhatIf");

        Assert.False(Directory.Exists(_shell.SpoolPath));
        Assert.Empty(_shell.Invoke("Get-RelayServer -Name '" + name + "*'"));
    }

    [Fact]
    public void Stop_UnknownName_WritesRelayServerNotFound()
    {
        ErrorRecord error = _shell.InvokeExpectingError("Stop-RelayServer -Name no-such-server");

        Assert.Equal("RelayServerNotFound,RelayCmdlets.StopRelayServerCommand", error.FullyQualifiedErrorId);
        Assert.Equal("no-such-server", error.TargetObject);
    }

    [Fact]
    public void Get_UnknownName_WritesRelayServerNotFound()
    {
        ErrorRecord error = _shell.InvokeExpectingError("Get-RelayServer -Name no-such-server");

        Assert.Equal("RelayServerNotFound,RelayCmdlets.GetRelayServerCommand", error.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
    }

    [Fact]
    public void Get_WildcardMatchingNothing_WritesNothing()
    {
        var output = _shell.Invoke("Get-RelayServer -Name 'no-such-server-*'");

        Assert.Empty(output);
    }

    public void Dispose() => _shell.Dispose();
}
