// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;

namespace RelayCore.Net;

/// <summary>
/// A forwarding destination in E-MailRelay's syntax: <c>host:port</c>, <c>[ipv6]:port</c>,
/// optionally followed by <c>@socks-host:socks-port</c> to reach it through a SOCKS proxy.
/// </summary>
public sealed class NextHopAddress
{
    private NextHopAddress(string host, int port, string socksHost, int socksPort)
    {
        Host = host;
        Port = port;
        SocksHost = socksHost;
        SocksPort = socksPort;
    }

    /// <summary>The next hop's host name or IP address (IPv6 without brackets).</summary>
    public string Host { get; }

    /// <summary>The next hop's port.</summary>
    public int Port { get; }

    /// <summary>The SOCKS proxy's host, or null when connecting directly.</summary>
    public string SocksHost { get; }

    /// <summary>The SOCKS proxy's port (0 when connecting directly).</summary>
    public int SocksPort { get; }

    /// <summary>Whether the connection goes through a SOCKS proxy.</summary>
    public bool UsesSocks => SocksHost != null;

    /// <summary>Parses <c>host:port</c>, <c>[ipv6]:port</c> or either with <c>@socks-host:socks-port</c>.</summary>
    /// <exception cref="FormatException">The text is not a next-hop address; the message says why.</exception>
    public static NextHopAddress Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new FormatException("A next hop is required, as host:port.");
        }

        string trimmed = text.Trim();
        int at = trimmed.LastIndexOf('@');
        (string host, int port) = ParseHostPort(at < 0 ? trimmed : trimmed.Substring(0, at), trimmed);
        if (at < 0)
        {
            return new NextHopAddress(host, port, null, 0);
        }

        (string socksHost, int socksPort) = ParseHostPort(trimmed.Substring(at + 1), trimmed);
        return new NextHopAddress(host, port, socksHost, socksPort);
    }

    /// <summary>Parses like <see cref="Parse"/>, returning false instead of throwing.</summary>
    public static bool TryParse(string text, out NextHopAddress address)
    {
        try
        {
            address = Parse(text);
            return true;
        }
        catch (FormatException)
        {
            address = null;
            return false;
        }
    }

    /// <summary>The address in the syntax <see cref="Parse"/> reads.</summary>
    public override string ToString() =>
        UsesSocks ? Format(Host, Port) + "@" + Format(SocksHost, SocksPort) : Format(Host, Port);

    private static string Format(string host, int port) =>
        (host.IndexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port.ToString(CultureInfo.InvariantCulture);

    private static (string Host, int Port) ParseHostPort(string part, string whole)
    {
        int colon = part.LastIndexOf(':');
        if (colon <= 0 || colon == part.Length - 1)
        {
            throw new FormatException($"'{whole}' is not a next hop: expected host:port, [ipv6]:port or host:port@socks-host:socks-port.");
        }

        string host = part.Substring(0, colon);
        if (host.StartsWith("[", StringComparison.Ordinal))
        {
            if (!host.EndsWith("]", StringComparison.Ordinal) || host.Length < 3)
            {
                throw new FormatException($"'{whole}' has an unclosed IPv6 bracket.");
            }

            host = host.Substring(1, host.Length - 2);
        }
        else if (host.IndexOf(':') >= 0)
        {
            throw new FormatException($"'{whole}': put an IPv6 address in brackets, as [::1]:25.");
        }

        if (host.Length == 0 || host.IndexOfAny(new[] { ' ', '\t', '/', '@', '[', ']' }) >= 0)
        {
            throw new FormatException($"'{whole}' has an invalid host name.");
        }

        if (!int.TryParse(part.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port < 1 || port > 65535)
        {
            throw new FormatException($"'{whole}' has an invalid port: expected 1 to 65535.");
        }

        return (host, port);
    }
}
