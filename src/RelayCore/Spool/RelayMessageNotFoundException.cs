// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Spool;

/// <summary>No message with the given id is in the spool (in the states asked for).</summary>
public sealed class RelayMessageNotFoundException : Exception
{
    /// <summary>Creates the exception for a message id.</summary>
    /// <param name="id">The id asked for.</param>
    /// <param name="spoolPath">The spool directory searched.</param>
    public RelayMessageNotFoundException(string id, string spoolPath)
        : base("No message '" + id + "' in the spool '" + spoolPath + "'.")
    {
        Id = id;
        SpoolPath = spoolPath;
    }

    /// <summary>The id asked for.</summary>
    public string Id { get; }

    /// <summary>The spool directory searched.</summary>
    public string SpoolPath { get; }
}
