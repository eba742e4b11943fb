// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.OAuth;

/// <summary>A stored account file that others than its owner can read: its secrets are refused, not used.</summary>
public sealed class OAuthAccountPermissionException : UnauthorizedAccessException
{
    /// <summary>Creates the exception for a file and what to do about it.</summary>
    /// <param name="path">The account file.</param>
    /// <param name="message">What is wrong and the fix.</param>
    public OAuthAccountPermissionException(string path, string message)
        : base(message)
    {
        Path = path;
    }

    /// <summary>The account file.</summary>
    public string Path { get; }
}
