// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.IO;

namespace RelayCore.Spool;

/// <summary>A spool file stayed open in another process, so it could not be renamed or deleted.</summary>
/// <remarks>
/// Windows refuses to rename or delete a file that another process holds open without
/// delete sharing (a virus scanner, a backup agent, an editor); Relay retries briefly first.
/// </remarks>
public sealed class SpoolFileInUseException : IOException
{
    /// <summary>Creates the exception for a file.</summary>
    /// <param name="path">The file that could not be renamed or deleted.</param>
    /// <param name="innerException">The last file-system error.</param>
    public SpoolFileInUseException(string path, Exception innerException)
        : base("The spool file '" + path + "' is held open by another process; try again later.", innerException)
    {
        FilePath = path;
    }

    /// <summary>The file that could not be renamed or deleted.</summary>
    public string FilePath { get; }
}
