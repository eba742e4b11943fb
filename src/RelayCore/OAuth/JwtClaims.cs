// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Text.Json;

namespace RelayCore.OAuth;

/// <summary>The claims Relay reports from a JWT access token; the signature is the next hop's to check, not Relay's.</summary>
internal sealed class JwtClaims
{
    private static readonly long s_minUnixSeconds = DateTimeOffset.MinValue.ToUnixTimeSeconds();
    private static readonly long s_maxUnixSeconds = DateTimeOffset.MaxValue.ToUnixTimeSeconds();

    private JwtClaims(IReadOnlyList<string> roles, IReadOnlyList<string> scopes, string audience, DateTimeOffset? expiresOn)
    {
        Roles = roles;
        Scopes = scopes;
        Audience = audience;
        ExpiresOn = expiresOn;
    }

    internal IReadOnlyList<string> Roles { get; }

    internal IReadOnlyList<string> Scopes { get; }

    internal string Audience { get; }

    /// <summary>The <c>exp</c> claim (RFC 7519 section 4.1.4), when present.</summary>
    internal DateTimeOffset? ExpiresOn { get; }

    /// <summary>Reads the payload of a compact JWS (RFC 7515 section 7.1); null when the token is not one.</summary>
    internal static JwtClaims TryRead(string token)
    {
        string[] parts = token.Split('.');
        if (parts.Length != 3 || parts[1].Length == 0)
        {
            return null;
        }
        byte[] payload;
        try
        {
            payload = Base64UrlDecode(parts[1]);
        }
        catch (FormatException)
        {
            return null;
        }
        try
        {
            using JsonDocument document = JsonDocument.Parse(payload);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }
            string[] scopes = root.TryGetProperty("scp", out JsonElement scp) && scp.ValueKind == JsonValueKind.String
                ? scp.GetString().Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries)
                : Array.Empty<string>();
            // An exp beyond any date is no expiry to honour (FromUnixTimeSeconds would throw on it).
            DateTimeOffset? expiresOn = root.TryGetProperty("exp", out JsonElement exp) && exp.ValueKind == JsonValueKind.Number && exp.TryGetInt64(out long seconds)
                && seconds >= s_minUnixSeconds && seconds <= s_maxUnixSeconds
                ? DateTimeOffset.FromUnixTimeSeconds(seconds)
                : null;
            string audience = root.TryGetProperty("aud", out JsonElement aud) && aud.ValueKind == JsonValueKind.String ? aud.GetString() : null;
            return new JwtClaims(Strings(root, "roles"), scopes, audience, expiresOn);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Base64url without padding (RFC 7515 section 2).</summary>
    internal static byte[] Base64UrlDecode(string text)
    {
        string base64 = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '='));
    }

    private static string[] Strings(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out JsonElement element))
        {
            return Array.Empty<string>();
        }
        if (element.ValueKind == JsonValueKind.String)
        {
            return new[] { element.GetString() };
        }
        if (element.ValueKind != JsonValueKind.Array)
        {
            return Array.Empty<string>();
        }
        var values = new List<string>();
        foreach (JsonElement item in element.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                values.Add(item.GetString());
            }
        }
        return values.ToArray();
    }
}
