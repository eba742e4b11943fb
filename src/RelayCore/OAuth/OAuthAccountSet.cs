// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using RelayCore.Hosting;

namespace RelayCore.OAuth;

/// <summary>
/// The OAuth2 accounts of a forwarding run or a server: one for messages without a ClientAccountSelector
/// and one per selector, so different devices can send as different mailboxes. Each account has one
/// provider, shared by every connection, for as long as the set lives.
/// </summary>
public sealed class OAuthAccountSet : IDisposable
{
    private readonly Dictionary<string, IAccessTokenProvider> _bySelector = new Dictionary<string, IAccessTokenProvider>(StringComparer.Ordinal);
    private readonly List<IAccessTokenProvider> _owned = new List<IAccessTokenProvider>();

    /// <summary>Loads every selector's account file now, so a wrong file fails at start rather than at the first message.</summary>
    /// <param name="defaultProvider">The provider for messages without a selector; null to send those without XOAUTH2. Not disposed by the set.</param>
    /// <param name="accountPathsBySelector">Selector to stored account file; null for none.</param>
    /// <param name="log">Where the providers report what they did (refresh-token rotations); may be null.</param>
    /// <exception cref="System.IO.FileNotFoundException">An account file does not exist.</exception>
    /// <exception cref="OAuthAccountPermissionException">Others than the owner can read an account file.</exception>
    /// <exception cref="System.IO.InvalidDataException">An account file is not valid, or its secrets cannot be decrypted.</exception>
    public OAuthAccountSet(IAccessTokenProvider defaultProvider, IEnumerable<KeyValuePair<string, string>> accountPathsBySelector, Action<RelayLogLevel, string> log)
    {
        Default = defaultProvider;
        try
        {
            foreach (KeyValuePair<string, string> pair in accountPathsBySelector ?? Array.Empty<KeyValuePair<string, string>>())
            {
                if (string.IsNullOrEmpty(pair.Key))
                {
                    throw new ArgumentException("An account selector must not be empty: the account for messages without one is the default provider.", nameof(accountPathsBySelector));
                }
                IAccessTokenProvider provider = OAuthAccount.Load(pair.Value).CreateProvider(log);
                _owned.Add(provider);
                _bySelector.Add(pair.Key, provider);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Makes a set of providers made elsewhere (tests, hosts that build providers themselves); the set disposes none of them.</summary>
    /// <param name="defaultProvider">The provider for messages without a selector; null to send those without XOAUTH2.</param>
    /// <param name="providersBySelector">Selector to provider.</param>
    /// <exception cref="ArgumentException">A selector is empty or given twice.</exception>
    public OAuthAccountSet(IAccessTokenProvider defaultProvider, IEnumerable<KeyValuePair<string, IAccessTokenProvider>> providersBySelector)
    {
        Default = defaultProvider;
        foreach (KeyValuePair<string, IAccessTokenProvider> pair in providersBySelector ?? throw new ArgumentNullException(nameof(providersBySelector)))
        {
            if (string.IsNullOrEmpty(pair.Key))
            {
                throw new ArgumentException("An account selector must not be empty: the account for messages without one is the default provider.", nameof(providersBySelector));
            }
            _bySelector.Add(pair.Key, pair.Value);
        }
    }

    /// <summary>The provider for messages without a selector; null when they are sent without XOAUTH2.</summary>
    public IAccessTokenProvider Default { get; }

    /// <summary>The selectors that have an account of their own, in no particular order.</summary>
    public IReadOnlyCollection<string> Selectors => _bySelector.Keys;

    /// <summary>Finds the provider for an envelope's ClientAccountSelector.</summary>
    /// <param name="selector">The selector; null or empty for <see cref="Default"/>.</param>
    /// <param name="provider">The provider; null for the default when there is none.</param>
    /// <returns>False when a selector was given that no account carries.</returns>
    public bool TryFind(string selector, out IAccessTokenProvider provider)
    {
        if (string.IsNullOrEmpty(selector))
        {
            provider = Default;
            return true;
        }
        return _bySelector.TryGetValue(selector, out provider);
    }

    /// <summary>Disposes the providers the set loaded (not the default one it was given).</summary>
    public void Dispose()
    {
        foreach (IAccessTokenProvider provider in _owned)
        {
            (provider as IDisposable)?.Dispose();
        }
        _owned.Clear();
    }
}
