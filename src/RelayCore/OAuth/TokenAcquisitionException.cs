// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.OAuth;

/// <summary>
/// A token could not be had: the endpoint's own <c>error</c> and <c>error_description</c> (RFC 6749 section 5.2),
/// or the network failure, whether trying later can help, and what to fix.
/// </summary>
/// <remarks>Carries no secret or token: the message is safe for logs, spool reasons and PowerShell errors.</remarks>
public sealed class TokenAcquisitionException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="endpoint">The token endpoint or authority asked.</param>
    /// <param name="error">The endpoint's <c>error</c> code (e.g. invalid_client), or a Relay code for a failure without one (e.g. unreachable).</param>
    /// <param name="errorDescription">The endpoint's <c>error_description</c>, or the network failure's text.</param>
    /// <param name="statusCode">The HTTP status of the answer; null when there was none.</param>
    /// <param name="isRetryable">Whether trying again later can succeed without changing the account.</param>
    /// <param name="remedy">A sentence saying what to fix.</param>
    /// <param name="innerException">The failure underneath, if any.</param>
    public TokenAcquisitionException(string endpoint, string error, string errorDescription, int? statusCode, bool isRetryable, string remedy, Exception innerException)
        : base(Compose(endpoint, error, errorDescription, statusCode, remedy), innerException)
    {
        Endpoint = endpoint;
        Error = error;
        ErrorDescription = errorDescription;
        StatusCode = statusCode;
        IsRetryable = isRetryable;
        Remedy = remedy;
    }

    /// <summary>The token endpoint or authority asked.</summary>
    public string Endpoint { get; }

    /// <summary>The endpoint's <c>error</c> code (invalid_client, invalid_grant...) or Relay's for a failure without one (unreachable, timeout, invalid_response, token_rejected).</summary>
    public string Error { get; }

    /// <summary>The endpoint's <c>error_description</c>, or the network failure's text.</summary>
    public string ErrorDescription { get; }

    /// <summary>The HTTP status of the answer; null when none came.</summary>
    public int? StatusCode { get; }

    /// <summary>Whether trying again later can succeed without changing the account (network failures, 5xx, temporarily_unavailable).</summary>
    public bool IsRetryable { get; }

    /// <summary>A sentence saying what to fix.</summary>
    public string Remedy { get; }

    private static string Compose(string endpoint, string error, string errorDescription, int? statusCode, string remedy)
    {
        string text = "The token request to " + endpoint + " failed";
        text += statusCode.HasValue ? " (HTTP " + statusCode.Value + "): " : ": ";
        text += error;
        if (!string.IsNullOrEmpty(errorDescription))
        {
            text += ": " + errorDescription.Trim();
        }
        return string.IsNullOrEmpty(remedy) ? text : text.TrimEnd('.') + ". " + remedy;
    }
}
