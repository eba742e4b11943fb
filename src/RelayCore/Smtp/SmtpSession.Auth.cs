// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using RelayCore.Auth;
using RelayCore.Hosting;

namespace RelayCore.Smtp;

/// <summary>SMTP AUTH (RFC 4954) on the session.</summary>
internal sealed partial class SmtpSession
{
    private Next Auth(string argument)
    {
        if ((Capabilities() & SmtpCapabilities.Authentication) == 0 && _authenticatedUser == null)
        {
            return _options.RequireTls && !_isSecure && _context.Secrets != null
                ? Bad("530 5.7.0 Must issue a STARTTLS command first")
                : Bad("502 5.5.1 AUTH not available");
        }
        if (_state == SmtpSessionState.Connected)
        {
            return Bad("503 5.5.1 Send EHLO first");
        }
        if (_authenticatedUser != null)
        {
            return Bad("503 5.5.1 Already authenticated");
        }
        if (_state != SmtpSessionState.Greeted)
        {
            return Bad("503 5.5.1 AUTH not allowed inside a mail transaction");
        }
        string[] words = argument.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 1 || words.Length > 2)
        {
            return Bad("501 5.5.4 Syntax: AUTH <mechanism> [initial-response]");
        }
        SaslServer sasl = SaslServer.Create(words[0], _context.Secrets, _context.Domain);
        if (sasl == null)
        {
            return Bad("504 5.5.4 Unrecognized authentication type");
        }
        byte[] initial = null;
        if (words.Length == 2 && !TryDecodeBase64(words[1], out initial))
        {
            return Bad("501 5.5.2 Cannot decode the initial response");
        }
        _sasl = sasl;
        return Step(sasl.Evaluate(initial));
    }

    private Next ContinueAuth(ReadOnlySpan<byte> line)
    {
        if (_context.IsLogging(RelayLogLevel.Debug))
        {
            _context.Log(RelayLogLevel.Debug, ClientText + " C: ****");
        }
        string text = Decode(line).Trim();
        if (text == "*")
        {
            _sasl = null;
            return Bad("501 5.0.0 Authentication cancelled");
        }
        if (!TryDecodeBase64(text, out byte[] response))
        {
            _sasl = null;
            return Bad("501 5.5.2 Cannot decode the response");
        }
        return Step(_sasl.Evaluate(response));
    }

    private Next Step(SaslStep step)
    {
        switch (step.Kind)
        {
            case SaslStepKind.Challenge:
                return Reply("334 " + Convert.ToBase64String(step.Challenge));
            case SaslStepKind.Succeeded:
                _authenticatedUser = _sasl.UserId;
                // The user id is the client's text: xtext keeps a CR or LF in it from forging log lines.
                _context.Log(RelayLogLevel.Information, ClientText + ": authenticated as '" + XText.Encode(_authenticatedUser) + "' with " + _sasl.Mechanism);
                _sasl = null;
                return Reply("235 2.7.0 Authentication successful");
            case SaslStepKind.Failed:
                _context.Log(RelayLogLevel.Warning, ClientText + ": authentication failed for '" + XText.Encode(_sasl.UserId) + "' with " + _sasl.Mechanism);
                _sasl = null;
                return Bad("535 5.7.8 Authentication credentials invalid");
            default:
                _sasl = null;
                return Bad("501 5.5.2 Malformed authentication response");
        }
    }

    private static bool TryDecodeBase64(string text, out byte[] bytes)
    {
        if (text == "=")
        {
            // RFC 4954 section 4: "=" is an empty initial response.
            bytes = Array.Empty<byte>();
            return true;
        }
        try
        {
            bytes = Convert.FromBase64String(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = null;
            return false;
        }
    }
}
