// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Net;
using System.Text;
using RelayCore.Auth;
using RelayCore.OAuth;

namespace RelayCore.Forwarding;

/// <summary>
/// The forwarding accounts of one configuration, read once: the default account (a credential, a
/// <c>plain:&lt;b64&gt;:&lt;b64&gt;</c> account, an OAuth2 token or the selector-less <c>client</c> line of the
/// secrets file) and the secrets file's selector lines for messages whose envelope names one.
/// </summary>
internal sealed class ClientAccounts
{
    private const string AccountPrefix = "plain:";

    private readonly SecretsFile _secrets;
    private readonly ClientAccount _default;
    private readonly OAuthAccountSet _oauth;

    /// <summary>Reads and checks the account options.</summary>
    /// <exception cref="ArgumentException">The options contradict each other or an account string is malformed.</exception>
    /// <exception cref="SecretsFormatException">A line of the secrets file cannot be read.</exception>
    /// <exception cref="System.IO.IOException">The secrets file cannot be read.</exception>
    internal ClientAccounts(ForwardingOptions options)
    {
        if (options.Credential != null && !string.IsNullOrEmpty(options.ClientAccount))
        {
            throw new ArgumentException("Give the forwarding account once: as a credential or as a 'plain:<base64 user>:<base64 password>' account, not both.", nameof(options));
        }
        if (!string.IsNullOrEmpty(options.ClientSecretsPath))
        {
            _secrets = SecretsFile.Load(options.ClientSecretsPath);
        }
        ClientAccount fromFile = FromEntry(_secrets?.FindClientAccount(string.Empty));
        if (options.OAuthToken != null && options.OAuthAccounts?.Default != null)
        {
            throw new ArgumentException("Give the default OAuth2 account once: as a static token or as a token provider, not both.", nameof(options));
        }
        if (options.OAuthAccounts?.Default != null && (options.Credential != null || !string.IsNullOrEmpty(options.ClientAccount)))
        {
            // Either would be silently unused: the OAuth2 account logs in for messages without a selector.
            throw new ArgumentException("Give the default account once: as an OAuth2 account or as a password account (credential or 'plain:' account), not both.", nameof(options));
        }
        _oauth = options.OAuthAccounts;
        if (options.OAuthToken != null)
        {
            string user = options.Credential?.UserName ?? fromFile?.UserName;
            if (string.IsNullOrEmpty(user))
            {
                throw new ArgumentException("An OAuth2 token needs the user it belongs to: give a credential's user name or a secrets file client line.", nameof(options));
            }
            _default = ClientAccount.WithOAuthToken(user, options.OAuthToken, "the OAuth2 token option");
        }
        else if (options.OAuthAccounts?.Default != null)
        {
            _default = ClientAccount.WithTokenProvider(null, options.OAuthAccounts.Default, "the default OAuth2 account");
        }
        else if (options.Credential != null)
        {
            if (string.IsNullOrEmpty(options.Credential.UserName))
            {
                throw new ArgumentException("The forwarding credential has no user name.", nameof(options));
            }
            _default = ClientAccount.WithPassword(options.Credential.UserName, options.Credential.Password, "the credential");
        }
        else if (!string.IsNullOrEmpty(options.ClientAccount))
        {
            _default = ParseAccount(options.ClientAccount);
        }
        else
        {
            _default = fromFile;
        }
    }

    /// <summary>The account for messages without a selector; null to send without AUTH.</summary>
    internal ClientAccount Default => _default;

    /// <summary>Finds the account for an envelope's ClientAccountSelector.</summary>
    /// <param name="selector">The selector; null or empty for the default account.</param>
    /// <param name="account">The account, or null to send without AUTH (no default account configured).</param>
    /// <returns>False when a selector was given that neither an OAuth2 account nor a client line of the secrets file carries.</returns>
    internal bool TryResolve(string selector, out ClientAccount account)
    {
        if (string.IsNullOrEmpty(selector))
        {
            account = _default;
            return true;
        }
        if (_oauth != null && _oauth.TryFind(selector, out IAccessTokenProvider provider))
        {
            account = ClientAccount.WithTokenProvider(null, provider, "the OAuth2 account for selector '" + selector + "'");
            return true;
        }
        account = FromEntry(_secrets?.FindClientAccount(selector));
        return account != null;
    }

    /// <summary>Why <see cref="TryResolve"/> found no account for a selector, naming every place it looked.</summary>
    /// <param name="selector">The selector no account carries.</param>
    /// <returns>The reason, for the message's deferral.</returns>
    internal string DescribeMissing(string selector)
    {
        string text = "No client account for selector '" + selector + "': ";
        if (_oauth != null)
        {
            text += "no OAuth2 account carries it" + (_oauth.Selectors.Count > 0 ? " (the OAuth2 accounts' selectors: " + string.Join(", ", _oauth.Selectors) + ")" : string.Empty) + ", and ";
        }
        return text + (_secrets != null ? "the client secrets file has no 'client' line with that fifth field." : "no client secrets file is configured.");
    }

    /// <summary>Reads E-MailRelay's <c>plain:&lt;base64 user&gt;:&lt;base64 password&gt;</c>.</summary>
    internal static ClientAccount ParseAccount(string text)
    {
        string[] parts = text.StartsWith(AccountPrefix, StringComparison.OrdinalIgnoreCase)
            ? text.Substring(AccountPrefix.Length).Split(':')
            : Array.Empty<string>();
        if (parts.Length != 2 || parts[0].Length == 0)
        {
            throw new ArgumentException("A client account is written 'plain:<base64 user>:<base64 password>'.", nameof(text));
        }
        try
        {
            return ClientAccount.WithPassword(
                Encoding.UTF8.GetString(Convert.FromBase64String(parts[0])),
                Encoding.UTF8.GetString(Convert.FromBase64String(parts[1])),
                "the client account option");
        }
        catch (FormatException error)
        {
            throw new ArgumentException("The user and password of a 'plain:' client account must be base64: " + error.Message, nameof(text), error);
        }
    }

    private ClientAccount FromEntry(SecretEntry entry)
    {
        if (entry == null)
        {
            return null;
        }
        string source = _secrets.Source + " line " + entry.LineNumber;
        return entry.Type switch
        {
            SecretType.Md5 => ClientAccount.WithMd5Secret(entry.Id, entry.Secret, source),
            SecretType.OAuth => ClientAccount.WithOAuthToken(entry.Id, new NetworkCredential(string.Empty, entry.Secret).SecurePassword, source),
            _ => ClientAccount.WithPassword(entry.Id, entry.Secret, source),
        };
    }
}
