// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Security;
using System.Threading.Tasks;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.Net;

namespace RelayCmdlets;

/// <summary>
/// Starts an SMTP storage daemon that spools what it receives and, with <c>-ForwardTo</c>, forwards
/// it on the chosen triggers: <c>Start-RelayServer</c>.
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "RelayServer", SupportsShouldProcess = true)]
[OutputType(typeof(RelayServerInstance))]
public sealed class StartRelayServerCommand : RelayForwardingCmdlet
{
    private const int DefaultPort = 25;

    /// <summary>The server's name, unique among the servers running in this process.</summary>
    /// <remarks>No wildcard characters: Get- and Stop-RelayServer take wildcards in the names they are given.</remarks>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidatePattern(@"^[^*?\[\]]+$")]
    public string Name { get; set; } = "relay";

    /// <summary>The spool directory; created when missing.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string SpoolPath { get; set; }

    /// <summary>Ports for plain SMTP listeners; 0 picks a free port.</summary>
    [Parameter]
    [ValidateNotNull]
    [ValidateRange(0, 65535)]
    public int[] Port { get; set; }

    /// <summary>Ports for implicit-TLS (SMTPS) listeners.</summary>
    [Parameter]
    [ValidateNotNull]
    [ValidateRange(0, 65535)]
    public int[] TlsPort { get; set; }

    /// <summary>The interface addresses to listen on; loopback when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public IPAddress[] ListenAddress { get; set; }

    /// <summary>Lets clients from non-loopback addresses connect.</summary>
    [Parameter]
    public SwitchParameter AllowRemoteClients { get; set; }

    /// <summary>The domain the server names itself by.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Domain { get; set; }

    /// <summary>The largest message accepted, in bytes; 0 for no limit.</summary>
    [Parameter]
    [ValidateRange(0L, long.MaxValue)]
    public long MaxMessageSize { get; set; }

    /// <summary>An E-MailRelay secrets file with the accounts clients log in as and the trusted ranges.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ServerSecretsPath { get; set; }

    /// <summary>The TLS certificate: a PEM file (with the key unless -CertificateKeyPath) or a PFX file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string CertificatePath { get; set; }

    /// <summary>The PEM private key file, when the key is not in the certificate file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string CertificateKeyPath { get; set; }

    /// <summary>The password of a PFX file or an encrypted PEM key.</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString CertificatePassword { get; set; }

    /// <summary>Requires clients to start TLS before AUTH or MAIL.</summary>
    [Parameter]
    public SwitchParameter RequireTls { get; set; }

    /// <summary>Requires clients outside the trusted ranges to authenticate before MAIL.</summary>
    [Parameter]
    public SwitchParameter RequireAuthentication { get; set; }

    /// <summary>Hides the server: no Received header, VRFY disabled, a plain greeting.</summary>
    [Parameter]
    public SwitchParameter Anonymous { get; set; }

    /// <summary>How long a client may stay silent before it is disconnected.</summary>
    [Parameter]
    [ValidateTimeSpanRange(1, 86400)]
    public TimeSpan IdleTimeout { get; set; }

    /// <summary>How long stopping the server lets busy sessions finish their command.</summary>
    [Parameter]
    [ValidateTimeSpanRange(0, 3600)]
    public TimeSpan ShutdownGracePeriod { get; set; }

    /// <summary>The most simultaneous connections.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxConnections { get; set; }

    /// <summary>The most recipients per message.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxRecipients { get; set; }

    /// <summary>The longest command or text line accepted, in bytes with CRLF.</summary>
    [Parameter]
    [ValidateRange(512, int.MaxValue)]
    public int MaxLineLength { get; set; }

    /// <summary>How many bad commands a client may send before it is disconnected.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int MaxBadCommands { get; set; }

    /// <summary>The next hop to forward to; without it the server only stores. The client parameters (-Credential, -ClientTls, -PopBeforeSmtp...) apply to it.</summary>
    [Parameter]
    [ValidateNotNull]
    public NextHopAddress ForwardTo { get; set; }

    /// <summary>Forwards the spool's ready messages once the server has started (E-MailRelay's --forward).</summary>
    [Parameter]
    public SwitchParameter ForwardOnStart { get; set; }

    /// <summary>Forwards when a client that submitted mail disconnects (E-MailRelay's --forward-on-disconnect; with -ForwardTo, its --as-proxy).</summary>
    [Parameter]
    public SwitchParameter ForwardOnDisconnect { get; set; }

    /// <summary>Forwards each message during DATA, before replying, so the client's reply is the next hop's (E-MailRelay's --immediate).</summary>
    [Parameter]
    public SwitchParameter Immediate { get; set; }

    /// <summary>Forwards the spool's ready messages this often (E-MailRelay's --poll).</summary>
    [Parameter]
    [ValidateTimeSpanRange(1, 86400)]
    public TimeSpan PollInterval { get; set; }

    /// <summary>Blocks until Ctrl+C or Stop-RelayServer, writing the server's log, then stops the server.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Starts the server and, with -Wait, serves until stopped.</summary>
    protected override void ProcessRecord()
    {
        var log = new RelayServerLogQueue();
        RelayServerOptions options = BuildOptions(log);
        if (!ShouldProcess(Describe(options), "Start relay server '" + Name + "'"))
        {
            return;
        }
        RelayServerInstance instance = Start(options, log);
        if (instance == null)
        {
            return;
        }
        WriteLog(log, log.TakeQueued());
        WriteObject(instance);
        if (Wait)
        {
            Serve(instance, log);
        }
        else
        {
            // Nobody will write what the server logs from now on.
            log.Close();
        }
    }

    private RelayServerOptions BuildOptions(RelayServerLogQueue log)
    {
        var options = new RelayServerOptions
        {
            Name = Name,
            SpoolPath = ResolveSpoolPath(SpoolPath),
            AllowRemoteClients = AllowRemoteClients,
            Domain = Domain,
            ServerSecretsPath = ResolveExistingFile(ServerSecretsPath, ErrorMapping.SecretsFileNotFound),
            CertificatePath = ResolveExistingFile(CertificatePath, ErrorMapping.CertificateNotFound),
            CertificateKeyPath = ResolveExistingFile(CertificateKeyPath, ErrorMapping.CertificateNotFound),
            CertificatePassword = CertificatePassword,
            RequireTls = RequireTls,
            RequireAuthentication = RequireAuthentication,
            Anonymous = Anonymous,
            Log = log.Add,
            LogLevel = LeastLevelShown(),
        };
        // The default port only when no listener was asked for: -TlsPort 465 alone means SMTPS alone.
        AddAll(options.Ports, Port ?? (TlsPort == null ? new[] { DefaultPort } : Array.Empty<int>()));
        AddAll(options.ImplicitTlsPorts, TlsPort ?? Array.Empty<int>());
        AddAll(options.ListenAddresses, ListenAddress ?? Array.Empty<IPAddress>());
        AddForwarding(options, log);
        // Unbound value parameters keep the engine's defaults.
        if (IsBound(nameof(MaxMessageSize)))
        {
            options.MaxMessageSize = MaxMessageSize;
        }
        if (IsBound(nameof(IdleTimeout)))
        {
            options.IdleTimeout = IdleTimeout;
        }
        if (IsBound(nameof(ShutdownGracePeriod)))
        {
            options.ShutdownGracePeriod = ShutdownGracePeriod;
        }
        if (IsBound(nameof(MaxConnections)))
        {
            options.MaxConnections = MaxConnections;
        }
        if (IsBound(nameof(MaxRecipients)))
        {
            options.MaxRecipients = MaxRecipients;
        }
        if (IsBound(nameof(MaxLineLength)))
        {
            options.MaxLineLength = MaxLineLength;
        }
        if (IsBound(nameof(MaxBadCommands)))
        {
            options.MaxBadCommands = MaxBadCommands;
        }
        return options;
    }

    private void AddForwarding(RelayServerOptions options, RelayServerLogQueue log)
    {
        if (ForwardTo == null)
        {
            RejectForwardingParametersWithoutNextHop(nameof(ForwardTo));
            string trigger = new[] { nameof(ForwardOnStart), nameof(ForwardOnDisconnect), nameof(Immediate), nameof(PollInterval) }.FirstOrDefault(IsBound);
            if (trigger != null)
            {
                ThrowTerminatingError(ErrorMapping.InvalidForwardingParameters("-" + trigger + " forwards: give -ForwardTo too.", trigger));
            }
            return;
        }
        if (!ForwardOnStart && !ForwardOnDisconnect && !Immediate && !IsBound(nameof(PollInterval)))
        {
            WriteWarning("-ForwardTo without -ForwardOnStart, -ForwardOnDisconnect, -Immediate or -PollInterval: the server forwards only when told to, with (Get-RelayServer -Name " + Name + ").Server.TriggerForwarding().");
        }
        ForwardingOptions forwarding = BuildForwardingOptions(ForwardTo);
        // A server outlives the pipeline: its forwarding log goes with the server's own.
        forwarding.Log = log.Add;
        options.Forwarding = forwarding;
        options.ForwardOnStart = ForwardOnStart;
        options.ForwardOnDisconnect = ForwardOnDisconnect;
        options.ForwardImmediately = Immediate;
        if (IsBound(nameof(PollInterval)))
        {
            options.PollInterval = PollInterval;
        }
    }

    private RelayServerInstance Start(RelayServerOptions options, RelayServerLogQueue log)
    {
        if (!RelayServerRegistry.TryReserve(Name))
        {
            ThrowTerminatingError(ErrorMapping.ServerNameInUse(Name));
        }
        bool started = false;
        try
        {
            RelayServer server = Wait(token => RelayServer.StartAsync(options, token));
            started = true;
            // The server outlives this cmdlet: its token providers go when it stops.
            IDisposable oauthProviders = DetachOAuthProviders();
            if (oauthProviders != null)
            {
                server.Completion.ContinueWith(_ => oauthProviders.Dispose(), TaskScheduler.Default);
            }
            return RelayServerRegistry.Register(server);
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception error) when (ErrorMapping.TryMapServerStart(error, options) is ErrorRecord record)
        {
            // What the server logged before it failed often says why.
            WriteLog(log, log.TakeQueued());
            ThrowTerminatingError(record);
            return null;
        }
        finally
        {
            if (!started)
            {
                RelayServerRegistry.Release(Name);
                log.Close();
            }
        }
    }

    private void Serve(RelayServerInstance instance, RelayServerLogQueue log)
    {
        // The queue closes when the server stops, however that happens; that ends the wait below.
        instance.Server.Completion.ContinueWith(_ => log.Close(), TaskScheduler.Default);
        try
        {
            WriteLog(log, log.TakeUntilClosed(StopToken));
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            // Ctrl+C ends the wait quietly; the server stops below.
        }
        finally
        {
            // Also on a pipeline stop or -ErrorAction Stop: a -Wait server never outlives its cmdlet.
            if (!instance.Server.Completion.IsCompleted)
            {
                Stop(instance);
            }
            RelayServerRegistry.Remove(instance);
            log.Close();
        }
        if (instance.Server.Completion.IsFaulted)
        {
            ThrowTerminating(instance.Server.Completion.Exception.GetBaseException(), instance);
        }
    }

    private void Stop(RelayServerInstance instance)
    {
        try
        {
            // After Ctrl+C the token is cancelled, so the engine skips the grace period: acknowledged
            // mail is already on disk, and unfinished receipts are dropped for the client to retry.
            Wait(async token =>
            {
                await instance.Server.StopAsync(token).ConfigureAwait(false);
                return instance;
            });
        }
        catch (OperationCanceledException) when (StopToken.IsCancellationRequested)
        {
            // Cutting the grace period short is what the cancelled token asked for.
        }
    }

    private void WriteLog(RelayServerLogQueue log, IEnumerable<KeyValuePair<RelayLogLevel, string>> lines)
    {
        foreach (KeyValuePair<RelayLogLevel, string> line in lines)
        {
            WriteLogLine(line.Key, line.Value, "RelayServerError", Name);
            long dropped = log.TakeDroppedCount();
            if (dropped > 0)
            {
                WriteWarning(dropped + " server log lines were dropped: the server logged faster than this host could write.");
            }
        }
    }

    private static void AddAll<T>(ICollection<T> target, IEnumerable<T> items)
    {
        foreach (T item in items)
        {
            target.Add(item);
        }
    }

    private static string Describe(RelayServerOptions options)
    {
        string addresses = options.ListenAddresses.Count > 0 ? string.Join(", ", options.ListenAddresses) : "loopback";
        string ports = string.Join(", ", options.Ports.Select(port => port.ToString(CultureInfo.InvariantCulture))
            .Concat(options.ImplicitTlsPorts.Select(port => port.ToString(CultureInfo.InvariantCulture) + " (TLS)")));
        return "port " + ports + " on " + addresses + ", spool " + options.SpoolPath +
            (options.Forwarding != null ? ", forwarding to " + options.Forwarding.NextHop : string.Empty);
    }
}
