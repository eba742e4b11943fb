// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayHost;

/// <summary>The <c>relay</c> command line is empty or malformed; relay prints the usage and exits with 2.</summary>
internal sealed class HostUsageException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong with the command line.</param>
    public HostUsageException(string message)
        : base(message)
    {
    }
}
