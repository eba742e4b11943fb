// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.Hosting;

/// <summary>How much a server log line matters.</summary>
public enum RelayLogLevel
{
    /// <summary>Protocol detail (each command and reply).</summary>
    Debug,

    /// <summary>Connections, messages stored, decisions.</summary>
    Information,

    /// <summary>Refused clients, rejected messages, limits hit.</summary>
    Warning,

    /// <summary>Failures of the server itself (disk, certificate, listener).</summary>
    Error,
}
