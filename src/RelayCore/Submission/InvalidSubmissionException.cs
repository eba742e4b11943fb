// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Submission;

/// <summary>A message cannot be submitted as given: no envelope sender or recipient, or an unusable address.</summary>
public sealed class InvalidSubmissionException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong with the submission.</param>
    /// <param name="innerException">The parser's error, if any.</param>
    public InvalidSubmissionException(string message, Exception innerException = null)
        : base(message, innerException)
    {
    }
}
