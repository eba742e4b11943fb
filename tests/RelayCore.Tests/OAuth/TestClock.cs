// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using RelayCore.OAuth;

namespace RelayCore.Tests.OAuth;

/// <summary>A clock a test moves, so a provider reaches its renewal window or a failure's end without waiting.</summary>
internal sealed class TestClock
{
    internal DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

    /// <summary>Makes this clock the provider's.</summary>
    internal static TestClock Drive(CachingTokenProvider provider)
    {
        var clock = new TestClock();
        provider.UtcNow = () => clock.Now;
        return clock;
    }
}
