// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Spool;

/// <summary>The message is claimed by a forwarding agent (or changed state) and cannot be changed now.</summary>
public sealed class RelayMessageBusyException : Exception
{
    /// <summary>Creates the exception for a message.</summary>
    /// <param name="message">The message that could not be changed.</param>
    /// <param name="innerException">The file-system error, if any.</param>
    public RelayMessageBusyException(RelayMessage message, Exception innerException = null)
        : base("The message '" + message?.Id + "' is busy or changed state; try again later.", innerException)
    {
        RelayMessage = message;
    }

    /// <summary>The message that could not be changed.</summary>
    public RelayMessage RelayMessage { get; }
}
