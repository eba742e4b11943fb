// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using RelayCore.Auth;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.Net;
using RelayCore.OAuth;
using RelayCore.Spool;
using RelayCore.Submission;

namespace RelayCmdlets;

/// <summary>
/// The one place where engine exceptions become PowerShell error records: a stable ErrorId, a
/// category and the object that failed. Exceptions not listed here propagate as the bugs they are.
/// </summary>
internal static class ErrorMapping
{
    private const string CertificateNotFoundId = "CertificateNotFound";
    private const string SecretsFileNotFoundId = "SecretsFileNotFound";
    private const string OAuthAccountNotFoundId = "OAuthAccountNotFound";

    /// <summary>Maps an exception the cmdlets expect; null when it is not one of them.</summary>
    /// <param name="error">The exception thrown by RelayCore or the runtime.</param>
    /// <param name="target">The object that failed (id, message, endpoint, path).</param>
    /// <returns>The error record, or null for an unexpected exception.</returns>
    internal static ErrorRecord TryMap(Exception error, object target)
    {
        switch (error)
        {
            case RelayMessageNotFoundException notFound:
                return new ErrorRecord(error, "RelayMessageNotFound", ErrorCategory.ObjectNotFound, target ?? notFound.Id);
            case RelayMessageBusyException busy:
                return new ErrorRecord(error, "RelayMessageBusy", ErrorCategory.ResourceBusy, target ?? busy.RelayMessage);
            case InvalidSubmissionException:
                return new ErrorRecord(error, "InvalidSubmission", ErrorCategory.InvalidArgument, target);
            case ItemNotFoundException:
                return new ErrorRecord(error, "PathNotFound", ErrorCategory.ObjectNotFound, target);
            case SpoolFileInUseException inUse:
                return new ErrorRecord(error, "SpoolFileInUse", ErrorCategory.ResourceBusy, target ?? inUse.FilePath);
            case DirectoryNotFoundException:
                return new ErrorRecord(error, "SpoolNotFound", ErrorCategory.ObjectNotFound, target);
            case FileNotFoundException:
                return new ErrorRecord(error, "FileNotFound", ErrorCategory.ObjectNotFound, target);
            case UnauthorizedAccessException:
                return new ErrorRecord(error, "PermissionDenied", ErrorCategory.PermissionDenied, target);
            case ForwardingConnectionException connection:
                return new ErrorRecord(error, "ForwardingConnectionFailed", CategoryOf(connection), target ?? connection.NextHop);
            case SocketException:
                return new ErrorRecord(error, "SocketError", ErrorCategory.ConnectionError, target);
            case TimeoutException:
                return new ErrorRecord(error, "OperationTimeout", ErrorCategory.OperationTimeout, target);
            case InvalidDataException:
                return new ErrorRecord(error, "InvalidData", ErrorCategory.InvalidData, target);
            case FormatException:
                return new ErrorRecord(error, "InvalidFormat", ErrorCategory.InvalidArgument, target);
            case IOException:
                return new ErrorRecord(error, "IOError", ErrorCategory.WriteError, target);
            default:
                return null;
        }
    }

    /// <summary>Maps an exception from starting a server; null when it is not one the cmdlets expect.</summary>
    /// <param name="error">The exception thrown by <see cref="RelayServer.StartAsync"/>.</param>
    /// <param name="options">The options the server was started with, naming what failed.</param>
    /// <returns>The error record, or null for an unexpected exception.</returns>
    internal static ErrorRecord TryMapServerStart(Exception error, RelayServerOptions options)
    {
        // The engine reports an unusable file as an ArgumentException about the options; its inner
        // exception says which kind of file. The record keeps the outer one: its message names the option.
        Exception cause = error is ArgumentException && error.InnerException != null ? error.InnerException : error;
        switch (cause)
        {
            case SocketException:
                return new ErrorRecord(error, "ListenerBindFailed", ErrorCategory.ResourceUnavailable, DescribeListeners(options));
            case SecretsFormatException:
                return new ErrorRecord(error, "SecretsFileInvalid", ErrorCategory.InvalidData, options.ServerSecretsPath);
            case InvalidDataException:
            case CryptographicException:
                return new ErrorRecord(error, "CertificateInvalid", ErrorCategory.InvalidData, options.CertificatePath);
            case UnauthorizedAccessException:
                return new ErrorRecord(error, "PermissionDenied", ErrorCategory.PermissionDenied, options);
            case Exception when error is ArgumentException:
                return new ErrorRecord(error, "InvalidServerOptions", ErrorCategory.InvalidArgument, options);
            default:
                return TryMap(error, options.SpoolPath);
        }
    }

    /// <summary>Maps an exception from setting up forwarding (before any message is claimed); null when it is not one the cmdlets expect.</summary>
    /// <param name="error">The exception thrown by the forwarding agent or the connection probe.</param>
    /// <param name="options">The options forwarding was set up with, naming what failed.</param>
    /// <returns>The error record, or null for an unexpected exception.</returns>
    internal static ErrorRecord TryMapForwardingStart(Exception error, ForwardingOptions options)
    {
        // As with the server: an unusable file is an ArgumentException whose inner exception says which kind.
        Exception cause = error is ArgumentException && error.InnerException != null ? error.InnerException : error;
        switch (cause)
        {
            case SecretsFormatException:
                return new ErrorRecord(error, "SecretsFileInvalid", ErrorCategory.InvalidData, options.ClientSecretsPath);
            case InvalidDataException:
            case CryptographicException:
                return new ErrorRecord(error, "CertificateInvalid", ErrorCategory.InvalidData, options.ClientCertificatePath ?? options.CaFilePath);
            case Exception when error is ArgumentException:
                return new ErrorRecord(error, "InvalidForwardingOptions", ErrorCategory.InvalidArgument, options.NextHop);
            default:
                return TryMap(error, options.NextHop);
        }
    }

    /// <summary>The non-terminating record for a message that was not delivered (Failed or Deferred).</summary>
    /// <param name="result">The message's result.</param>
    /// <param name="target">The message, or its id.</param>
    /// <returns>The error record.</returns>
    internal static ErrorRecord ForwardResultError(ForwardResult result, object target)
    {
        if (result.Outcome == ForwardOutcome.Failed)
        {
            ErrorCategory category = result.ReplyCode == 552 ? ErrorCategory.LimitsExceeded : ErrorCategory.InvalidOperation;
            return new ErrorRecord(new RelayForwardException(result), "RelayMessageFailed", category, target);
        }
        // No reply at all is a connection failure; a 4xx is the next hop declining for now.
        ErrorCategory deferral = result.ReplyCode.HasValue ? ErrorCategory.ResourceUnavailable : ErrorCategory.ConnectionError;
        return new ErrorRecord(new RelayForwardException(result), "RelayMessageDeferred", deferral, target);
    }

    /// <summary>The terminating record that ends a forwarding run in which messages failed for good.</summary>
    /// <param name="failedIds">The ids of the Failed messages.</param>
    /// <param name="named">How many ids the message names at most.</param>
    /// <param name="nextHop">The default next hop.</param>
    /// <returns>The error record.</returns>
    internal static ErrorRecord ForwardingFailed(IReadOnlyList<string> failedIds, int named, NextHopAddress nextHop)
    {
        string ids = string.Join(", ", failedIds.Take(named)) + (failedIds.Count > named ? ", ..." : string.Empty);
        string text = failedIds.Count + " message(s) were refused for good and are now Bad (" + ids + "); see the errors above, " +
            "or Get-RelaySpool -State Bad. The other messages were sent or stay Ready, as reported.";
        return new ErrorRecord(new InvalidOperationException(text), "ForwardingFailed", ErrorCategory.InvalidResult, nextHop);
    }

    /// <summary>The record for a certificate or key file that does not exist.</summary>
    /// <param name="path">The missing file's full path.</param>
    /// <returns>The error record.</returns>
    internal static ErrorRecord CertificateNotFound(string path) => MissingFile(CertificateNotFoundId, path);

    /// <summary>The record for a server secrets file that does not exist.</summary>
    /// <param name="path">The missing file's full path.</param>
    /// <returns>The error record.</returns>
    internal static ErrorRecord SecretsFileNotFound(string path) => MissingFile(SecretsFileNotFoundId, path);

    /// <summary>The record for an OAuth account file that does not exist.</summary>
    /// <param name="path">The missing file's full path.</param>
    /// <returns>The error record.</returns>
    internal static ErrorRecord OAuthAccountNotFound(string path) => MissingFile(OAuthAccountNotFoundId, path);

    /// <summary>Maps an exception from reading, writing or using an OAuth account; null when it is not one the cmdlets expect.</summary>
    /// <remarks>The engine's messages name files and settings, never a secret.</remarks>
    /// <param name="error">The exception thrown by <see cref="OAuthAccount"/> or a token provider's constructor.</param>
    /// <param name="target">The account file's path, or the account object.</param>
    /// <returns>The error record, or null for an unexpected exception.</returns>
    internal static ErrorRecord TryMapOAuthAccount(Exception error, object target)
    {
        switch (error)
        {
            case OAuthAccountPermissionException exposed:
                return new ErrorRecord(error, "OAuthAccountNotPrivate", ErrorCategory.PermissionDenied, target ?? exposed.Path);
            case FileNotFoundException missing when !(target is string path && string.Equals(missing.FileName, path, StringComparison.Ordinal)):
                // The account exists; a file it names (its certificate) does not.
                return new ErrorRecord(error, CertificateNotFoundId, ErrorCategory.ObjectNotFound, missing.FileName);
            case FileNotFoundException:
                return new ErrorRecord(error, OAuthAccountNotFoundId, ErrorCategory.ObjectNotFound, target);
            case DirectoryNotFoundException:
                return new ErrorRecord(error, "OAuthAccountFolderNotFound", ErrorCategory.ObjectNotFound, target);
            case InvalidDataException:
            case CryptographicException:
                return new ErrorRecord(error, "OAuthAccountInvalid", ErrorCategory.InvalidData, target);
            case ArgumentException:
            case InvalidOperationException:
                return new ErrorRecord(error, "OAuthAccountInvalid", ErrorCategory.InvalidArgument, target);
            case PlatformNotSupportedException:
                return new ErrorRecord(error, "OAuthAccountNotSupported", ErrorCategory.NotImplemented, target);
            default:
                return TryMap(error, target);
        }
    }

    /// <summary>The record for an account file that exists when -Force was not given.</summary>
    /// <param name="path">The file's full path.</param>
    /// <returns>The error record.</returns>
    internal static ErrorRecord OAuthAccountExists(string path) =>
        new ErrorRecord(
            new IOException("The OAuth account file '" + path + "' already exists. Give -Force to replace it, or another -Path."),
            "OAuthAccountExists",
            ErrorCategory.ResourceExists,
            path);

    /// <summary>The record for an account folder that others can write to, so they could replace the account file.</summary>
    /// <param name="directory">The folder's full path.</param>
    /// <param name="mode">Its permissions, as ls -l shows them.</param>
    /// <returns>The error record.</returns>
    internal static ErrorRecord OAuthAccountFolderNotPrivate(string directory, string mode) =>
        new ErrorRecord(
            new UnauthorizedAccessException("The folder '" + directory + "' (" + mode + ") can be written by others, who could replace the account file: "
                + "keep accounts in a folder only you can write to (for example chmod 700), or one with the sticky bit set."),
            "OAuthAccountFolderNotPrivate",
            ErrorCategory.PermissionDenied,
            directory);

    /// <summary>The record for New-RelayOAuthAccount parameters that do not fit the provider.</summary>
    /// <param name="message">What is wrong and how to put it right.</param>
    /// <param name="parameterName">The parameter at fault.</param>
    /// <returns>The error record.</returns>
    internal static ErrorRecord InvalidOAuthAccountParameters(string message, string parameterName) =>
        new ErrorRecord(new ArgumentException(message, parameterName), "InvalidOAuthAccountParameters", ErrorCategory.InvalidArgument, parameterName);

    /// <summary>The record for forwarding parameters that contradict each other or lack a companion.</summary>
    /// <param name="message">What is wrong and how to put it right.</param>
    /// <param name="parameterName">The parameter at fault.</param>
    /// <returns>The error record.</returns>
    internal static ErrorRecord InvalidForwardingParameters(string message, string parameterName) =>
        new ErrorRecord(new ArgumentException(message, parameterName), "InvalidForwardingParameters", ErrorCategory.InvalidArgument, parameterName);

    /// <summary>The record for a server name already taken by a running server.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The error record.</returns>
    internal static ErrorRecord ServerNameInUse(string name) =>
        new ErrorRecord(
            new ArgumentException("A relay server named '" + name + "' is already running in this process. Stop it, or give this one another -Name."),
            "RelayServerNameInUse",
            ErrorCategory.ResourceExists,
            name);

    /// <summary>The record for a server name that no running server has.</summary>
    /// <param name="name">The name asked for.</param>
    /// <returns>The error record.</returns>
    internal static ErrorRecord ServerNotFound(string name) =>
        new ErrorRecord(
            new ItemNotFoundException("No relay server named '" + name + "' is running in this process."),
            "RelayServerNotFound",
            ErrorCategory.ObjectNotFound,
            name);

    private static ErrorCategory CategoryOf(ForwardingConnectionException error)
    {
        switch (error.Step)
        {
            case ConnectionStep.Auth:
                return ErrorCategory.AuthenticationError;
            case ConnectionStep.Tls:
                return ErrorCategory.SecurityError;
            default:
                return ErrorCategory.ConnectionError;
        }
    }

    private static ErrorRecord MissingFile(string errorId, string path) =>
        new ErrorRecord(new FileNotFoundException("The file '" + path + "' does not exist.", path), errorId, ErrorCategory.ObjectNotFound, path);

    private static string DescribeListeners(RelayServerOptions options)
    {
        IEnumerable<IPAddress> addresses = options.ListenAddresses.Count > 0
            ? options.ListenAddresses
            : new[] { IPAddress.Loopback, IPAddress.IPv6Loopback };
        return string.Join(", ", addresses.SelectMany(address =>
            options.Ports.Concat(options.ImplicitTlsPorts).Select(port => new IPEndPoint(address, port).ToString())));
    }
}
