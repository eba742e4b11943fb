// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;
using System.Management.Automation;
using System.Net.Sockets;
using RelayCore.Spool;
using RelayCore.Submission;

namespace RelayCmdlets;

/// <summary>
/// The one place where engine exceptions become PowerShell error records: a stable ErrorId, a
/// category and the object that failed. Exceptions not listed here propagate as the bugs they are.
/// </summary>
internal static class ErrorMapping
{
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
            case SocketException:
                return new ErrorRecord(error, "SocketError", ErrorCategory.ConnectionError, target);
            case TimeoutException:
                return new ErrorRecord(error, "OperationTimeout", ErrorCategory.OperationTimeout, target);
            case InvalidDataException:
                return new ErrorRecord(error, "InvalidData", ErrorCategory.InvalidData, target);
            case IOException:
                return new ErrorRecord(error, "IOError", ErrorCategory.WriteError, target);
            default:
                return null;
        }
    }
}
