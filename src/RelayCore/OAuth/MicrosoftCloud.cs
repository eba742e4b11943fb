// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCore.OAuth;

/// <summary>The Microsoft cloud an Entra ID tenant lives in: it decides the sign-in authority.</summary>
public enum MicrosoftCloud
{
    /// <summary>The worldwide cloud: login.microsoftonline.com.</summary>
    Worldwide,

    /// <summary>US Government (GCC High, DoD): login.microsoftonline.us.</summary>
    UsGovernment,

    /// <summary>Microsoft 365 operated by 21Vianet in China: login.chinacloudapi.cn.</summary>
    China,
}
