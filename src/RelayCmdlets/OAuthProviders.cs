// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using RelayCore.OAuth;

namespace RelayCmdlets;

/// <summary>
/// The token providers a forwarding cmdlet made from its OAuth parameters, and the set the engine looks them
/// up in: they live as long as the run (Invoke-RelayForward, Test-RelayConnection) or the server.
/// </summary>
internal sealed class OAuthProviders : IDisposable
{
    private readonly List<IAccessTokenProvider> _made = new List<IAccessTokenProvider>();

    /// <summary>The accounts for the engine; null until <see cref="Complete"/>.</summary>
    internal OAuthAccountSet Set { get; private set; }

    /// <summary>Makes the provider an account describes and keeps it for disposal.</summary>
    /// <param name="account">The account, with its secrets.</param>
    /// <param name="log">Where the provider reports what it did.</param>
    /// <returns>The provider.</returns>
    internal IAccessTokenProvider Add(OAuthAccount account, Action<RelayCore.Hosting.RelayLogLevel, string> log)
    {
        IAccessTokenProvider provider = account.CreateProvider(log);
        _made.Add(provider);
        return provider;
    }

    /// <summary>Makes the set from the default provider and the providers by selector.</summary>
    /// <param name="defaultProvider">The provider for messages without a selector, or null.</param>
    /// <param name="bySelector">Selector to provider.</param>
    /// <returns>The set.</returns>
    internal OAuthAccountSet Complete(IAccessTokenProvider defaultProvider, IEnumerable<KeyValuePair<string, IAccessTokenProvider>> bySelector)
    {
        Set = new OAuthAccountSet(defaultProvider, bySelector);
        return Set;
    }

    /// <summary>Disposes the providers made (their HTTP clients).</summary>
    public void Dispose()
    {
        Set?.Dispose();
        foreach (IAccessTokenProvider provider in _made)
        {
            (provider as IDisposable)?.Dispose();
        }
        _made.Clear();
    }
}
