// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.OAuth;

/// <summary>
/// The caching every provider shares: one token held until shortly before it expires, one acquisition
/// shared by all concurrent callers, a failure remembered for a while, and <see cref="Invalidate"/> that
/// drops only the token that was rejected.
/// </summary>
public abstract class CachingTokenProvider : IAccessTokenProvider
{
    private readonly object _gate = new object();
    private AccessToken _token;
    private Task<AccessToken> _tokenTask;
    private DateTimeOffset _renewAt;
    private DateTimeOffset _usableUntil;
    private Task<AccessToken> _acquisition;
    private TokenAcquisitionException _failure;
    private DateTimeOffset _failureUntil;
    private bool _mustRefresh;

    /// <inheritdoc/>
    public abstract string Description { get; }

    /// <summary>How long before expiry a token is renewed; a quarter of the lifetime when that is shorter.</summary>
    /// <remarks>The token is still handed out during the first half of the margin while the renewal runs.</remarks>
    public TimeSpan RenewalMargin { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a failed acquisition is answered from memory before the endpoint is asked again.</summary>
    /// <remarks>So a wrong secret costs one request per interval, not one per message or connection.</remarks>
    public TimeSpan FailureHoldTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest one acquisition may take, whoever waits for it.</summary>
    public TimeSpan AcquisitionTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The clock; tests move it to reach the renewal window without waiting.</summary>
    internal Func<DateTimeOffset> UtcNow { get; set; } = () => DateTimeOffset.UtcNow;

    /// <inheritdoc/>
    /// <remarks>
    /// From the renewal time on, one renewal starts; until the token is within half the margin of its
    /// expiry, callers keep getting it meanwhile, so a slow endpoint never stalls forwarding.
    /// </remarks>
    public Task<AccessToken> GetTokenAsync(CancellationToken cancellationToken)
    {
        Task<AccessToken> pending;
        lock (_gate)
        {
            DateTimeOffset now = UtcNow();
            if (_token != null && now < _renewAt)
            {
                return _tokenTask;
            }
            if (_acquisition == null)
            {
                if (_failure != null && now < _failureUntil)
                {
                    return Task.FromException<AccessToken>(_failure);
                }
                AccessToken previous = _token;
                bool refresh = _mustRefresh || previous != null;
                // Started outside the lock: a provider's first synchronous steps (MSAL's set-up) must not hold it.
                _acquisition = Task.Run(() => AcquireSharedAsync(previous, refresh));
                // A background renewal may fail with nobody waiting: observe its exception.
                _acquisition.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            if (_token != null && now < _usableUntil)
            {
                return _tokenTask;
            }
            pending = _acquisition;
        }
        return WaitAsync(pending, cancellationToken);
    }

    /// <inheritdoc/>
    public void Invalidate(AccessToken rejected)
    {
        if (rejected == null)
        {
            throw new ArgumentNullException(nameof(rejected));
        }
        lock (_gate)
        {
            if (_token != null && string.Equals(_token.Value, rejected.Value, StringComparison.Ordinal))
            {
                _token = null;
                _tokenTask = null;
                _mustRefresh = true;
            }
        }
    }

    /// <summary>Acquires a new token from the endpoint (or the provider's own cache when <paramref name="forceRefresh"/> is false).</summary>
    /// <param name="forceRefresh">True when a token was held before (renewal, or it was rejected): the provider must not return it again.</param>
    /// <param name="cancellationToken">The acquisition timeout.</param>
    /// <returns>The new token.</returns>
    /// <exception cref="TokenAcquisitionException">The endpoint refused or could not be reached.</exception>
    protected abstract Task<AccessToken> AcquireAsync(bool forceRefresh, CancellationToken cancellationToken);

    /// <summary>The endpoint named in errors raised by this class (a timeout).</summary>
    protected abstract string Endpoint { get; }

    private async Task<AccessToken> AcquireSharedAsync(AccessToken previous, bool forceRefresh)
    {
        try
        {
            AccessToken token;
            using (var timeout = new CancellationTokenSource(AcquisitionTimeout))
            {
                try
                {
                    token = await AcquireAsync(forceRefresh, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException error) when (timeout.IsCancellationRequested)
                {
                    throw TokenErrorAdvice.FromNetwork(Endpoint, TokenErrorAdvice.Timeout, "no token within " + AcquisitionTimeout.TotalSeconds + " s", error);
                }
            }
            lock (_gate)
            {
                DateTimeOffset now = UtcNow();
                TimeSpan lifetime = token.ExpiresOn - now;
                TimeSpan margin = TimeSpan.FromTicks(Math.Min(RenewalMargin.Ticks, Math.Max(0, lifetime.Ticks / 4)));
                _token = token;
                _tokenTask = Task.FromResult(token);
                _renewAt = token.ExpiresOn - margin;
                _usableUntil = token.ExpiresOn - TimeSpan.FromTicks(margin.Ticks / 2);
                _failure = null;
                _mustRefresh = false;
                _acquisition = null;
            }
            return token;
        }
        catch (TokenAcquisitionException error)
        {
            lock (_gate)
            {
                _acquisition = null;
                DateTimeOffset now = UtcNow();
                if (previous != null && ReferenceEquals(previous, _token) && now < previous.ExpiresOn)
                {
                    // Renewal failed early: the held token is still good, so use it and try again a little later.
                    _renewAt = now + TimeSpan.FromTicks(Math.Min(FailureHoldTime.Ticks, (previous.ExpiresOn - now).Ticks / 2));
                    return previous;
                }
                _failure = error;
                _failureUntil = now + FailureHoldTime;
            }
            throw;
        }
        catch
        {
            lock (_gate)
            {
                _acquisition = null;
            }
            throw;
        }
    }

    /// <summary>Waits for a shared acquisition until it ends or this caller gives up; giving up leaves it running for the others.</summary>
    private static async Task<AccessToken> WaitAsync(Task<AccessToken> acquisition, CancellationToken cancellationToken)
    {
        if (acquisition.IsCompleted || !cancellationToken.CanBeCanceled)
        {
            return await acquisition.ConfigureAwait(false);
        }
        var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (cancellationToken.Register(() => cancelled.TrySetResult(true)))
        {
            if (await Task.WhenAny(acquisition, cancelled.Task).ConfigureAwait(false) != acquisition)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }
        return await acquisition.ConfigureAwait(false);
    }
}
