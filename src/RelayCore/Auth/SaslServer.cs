// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Text;

namespace RelayCore.Auth;

/// <summary>
/// The server side of one SASL exchange for SMTP AUTH (RFC 4954): PLAIN (RFC 4616), LOGIN and
/// CRAM-MD5 (RFC 2195), checked against a secrets file's server accounts.
/// </summary>
internal sealed class SaslServer
{
    /// <summary>The mechanisms offered, in the order EHLO lists them.</summary>
    internal const string Mechanisms = "PLAIN LOGIN CRAM-MD5";

    private static readonly byte[] s_username = Encoding.ASCII.GetBytes("Username:");
    private static readonly byte[] s_password = Encoding.ASCII.GetBytes("Password:");

    private readonly SecretsFile _secrets;
    private readonly string _domain;
    private string _challenge;
    private int _step;

    private SaslServer(string mechanism, SecretsFile secrets, string domain)
    {
        Mechanism = mechanism;
        _secrets = secrets;
        _domain = domain;
    }

    /// <summary>The mechanism name in upper case.</summary>
    internal string Mechanism { get; }

    /// <summary>The user id the client gave; set once it is known, whatever the outcome.</summary>
    internal string UserId { get; private set; }

    /// <summary>Starts an exchange; null when the mechanism is not supported.</summary>
    internal static SaslServer Create(string mechanism, SecretsFile secrets, string domain)
    {
        string upper = mechanism.ToUpperInvariant();
        return upper == "PLAIN" || upper == "LOGIN" || upper == "CRAM-MD5" ? new SaslServer(upper, secrets, domain) : null;
    }

    /// <summary>Takes the client's next answer (null for none yet, e.g. no initial response) and says what follows.</summary>
    internal SaslStep Evaluate(byte[] response)
    {
        int step = _step++;
        switch (Mechanism)
        {
            case "PLAIN":
                return response == null ? SaslStep.Ask(Array.Empty<byte>()) : CheckPlain(response);
            case "LOGIN":
                if (response == null)
                {
                    return SaslStep.Ask(s_username);
                }
                if (UserId == null)
                {
                    UserId = Encoding.UTF8.GetString(response);
                    return SaslStep.Ask(s_password);
                }
                return SaslStep.Done(CheckPassword(UserId, Encoding.UTF8.GetString(response)));
            default:
                if (step == 0)
                {
                    if (response != null)
                    {
                        return SaslStep.Malformed();
                    }
                    _challenge = CramMd5.CreateChallenge(_domain);
                    return SaslStep.Ask(Encoding.ASCII.GetBytes(_challenge));
                }
                return CheckCramMd5(response ?? Array.Empty<byte>());
        }
    }

    private SaslStep CheckPlain(byte[] response)
    {
        // authzid NUL authcid NUL passwd (RFC 4616 section 2).
        string text = Encoding.UTF8.GetString(response);
        string[] parts = text.Split('\0');
        if (parts.Length != 3 || parts[1].Length == 0)
        {
            return SaslStep.Malformed();
        }
        UserId = parts[1];
        bool ok = CheckPassword(parts[1], parts[2]) && (parts[0].Length == 0 || parts[0] == parts[1]);
        return SaslStep.Done(ok);
    }

    private SaslStep CheckCramMd5(byte[] response)
    {
        string text = Encoding.UTF8.GetString(response);
        int space = text.LastIndexOf(' ');
        if (space <= 0)
        {
            return SaslStep.Malformed();
        }
        UserId = text.Substring(0, space);
        return SaslStep.Done(CramMd5.Verify(_secrets.FindServerAccount(UserId), _challenge, text.Substring(space + 1)));
    }

    private bool CheckPassword(string userId, string password)
    {
        SecretEntry account = _secrets.FindServerAccount(userId);
        if (account == null || !account.HasPlainSecret)
        {
            return false;
        }
        return SecretComparer.FixedTimeEquals(Encoding.UTF8.GetBytes(account.Secret), Encoding.UTF8.GetBytes(password));
    }
}
