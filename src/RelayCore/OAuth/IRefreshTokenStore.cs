// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.OAuth;

/// <summary>Where a rotated refresh token is kept, so the next run starts from it (RFC 6749 section 6: the old one may stop working).</summary>
public interface IRefreshTokenStore
{
    /// <summary>Replaces the stored refresh token, atomically: a crash leaves the old or the new one, never neither.</summary>
    /// <param name="refreshToken">The refresh token the endpoint issued last.</param>
    /// <exception cref="System.IO.IOException">The store could not be written.</exception>
    void SaveRefreshToken(string refreshToken);
}
