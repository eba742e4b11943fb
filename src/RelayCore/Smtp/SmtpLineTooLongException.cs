// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.Smtp;

/// <summary>A client sent a line longer than the server's limit; the session replies 500 and closes.</summary>
internal sealed class SmtpLineTooLongException : Exception
{
    internal SmtpLineTooLongException(int limit)
        : base("The client sent a line longer than " + limit + " bytes.")
    {
    }
}
