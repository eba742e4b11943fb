// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;

namespace RelayCore.OAuth;

/// <summary>Turns a token endpoint's error into a <see cref="TokenAcquisitionException"/> that says what to fix.</summary>
internal static class TokenErrorAdvice
{
    /// <summary>The error code for a failure without an answer (DNS, TCP, TLS).</summary>
    internal const string Unreachable = "unreachable";

    /// <summary>The error code for an endpoint that did not answer in time.</summary>
    internal const string Timeout = "timeout";

    /// <summary>The error code for an answer that is not a token response.</summary>
    internal const string InvalidResponse = "invalid_response";

    private const string ServiceProblem = "The token endpoint has a problem of its own: trying later may help; messages stay queued.";

    /// <summary>An error answer of the endpoint (RFC 6749 section 5.2), or an HTTP failure without one.</summary>
    internal static TokenAcquisitionException FromEndpoint(string endpoint, string error, string description, int? statusCode, bool isRefreshTokenGrant, Exception inner)
    {
        bool serverSide = statusCode >= 500 || statusCode == 429;
        string code = string.IsNullOrEmpty(error) ? (serverSide ? "server_error" : InvalidResponse) : error;
        // MSAL names its own codes for a failing service (service_not_available, request_timeout).
        bool retryable = serverSide || code == "temporarily_unavailable" || code == "server_error" || code == "service_not_available" || code == "request_timeout";
        string remedy = retryable ? ServiceProblem : Remedy(code, description, isRefreshTokenGrant);
        return new TokenAcquisitionException(endpoint, code, description, statusCode, retryable, remedy, inner);
    }

    /// <summary>No answer: the endpoint could not be reached or did not answer in time; trying later may help.</summary>
    internal static TokenAcquisitionException FromNetwork(string endpoint, string error, string description, Exception inner) =>
        new TokenAcquisitionException(endpoint, error, description, null, true,
            error == Timeout
                ? "The token endpoint did not answer in time: check the network path to it (proxy, firewall); messages stay queued."
                : "The token endpoint could not be reached: check its address, DNS, the firewall and any proxy; messages stay queued.",
            inner);

    private static string Remedy(string error, string description, bool isRefreshTokenGrant)
    {
        // Microsoft's descriptions start with an AADSTS code that is more precise than the OAuth2 error.
        string text = description ?? string.Empty;
        if (Contains(text, "AADSTS7000215") || Contains(text, "AADSTS7000222"))
        {
            return "The client secret is wrong or expired: create a new one in the app registration (Certificates & secrets) and store it in the account.";
        }
        if (Contains(text, "AADSTS700016"))
        {
            return "No application with this client id exists in the tenant: check the client (application) id and the tenant id.";
        }
        if (Contains(text, "AADSTS90002") || Contains(text, "AADSTS900023"))
        {
            return "The tenant was not found: check the tenant id (a GUID or the tenant's domain) and the cloud instance.";
        }
        if (Contains(text, "AADSTS700027") || Contains(text, "AADSTS700024"))
        {
            return "The certificate was not accepted: upload the certificate's public part to the app registration and check the clock.";
        }
        switch (error)
        {
            case "invalid_client":
                return isRefreshTokenGrant
                    ? "The client id or client secret is wrong: copy them again from the OAuth client's settings."
                    : "The client id, client secret or certificate is wrong or expired: create a new secret (or upload the certificate) in the app registration and store it in the account.";
            case "invalid_grant":
                return isRefreshTokenGrant
                    ? "The refresh token has expired or been revoked: sign in again to get a new refresh token and store it in the account."
                    : "The grant was refused: check the certificate or secret and that the machine's clock is right.";
            case "unauthorized_client":
                return "The application may not use this grant: check the app registration (for Microsoft 365, an application permission with admin consent).";
            case "invalid_scope":
                return "The scope is not valid for this application: for Microsoft 365 use https://outlook.office365.com/.default and grant SMTP.SendAsApp; for Gmail https://mail.google.com/.";
            case "invalid_request":
                return "The token endpoint refused the request as malformed: check the endpoint URL and the account's settings.";
            case "access_denied":
                return "The authorization server denied access: an administrator must grant consent to the application.";
            case InvalidResponse:
                return "The address did not answer as an OAuth2 token endpoint: check the endpoint URL or authority.";
            default:
                return "Check the account's settings against the identity provider's app registration.";
        }
    }

    private static bool Contains(string text, string value) => text.IndexOf(value, StringComparison.Ordinal) >= 0;
}
