// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace RelayCore.Auth;

/// <summary>
/// A range of IP addresses as written in a secrets file's <c>none</c> lines: a plain address
/// (<c>192.168.0.1</c>), a prefix (<c>192.168.0.0/24</c>, <c>fe80::/64</c>) or IPv4 trailing
/// wildcards (<c>192.168.0.*</c>).
/// </summary>
public sealed class IPAddressRange
{
    private readonly byte[] _network;
    private readonly int _prefixLength;
    private readonly string _text;

    private IPAddressRange(IPAddress network, int prefixLength, string text)
    {
        _network = network.GetAddressBytes();
        _prefixLength = prefixLength;
        AddressFamily = network.AddressFamily;
        _text = text;
        // Clear host bits so Contains compares only the prefix.
        for (int bit = prefixLength; bit < _network.Length * 8; bit++)
        {
            _network[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }
    }

    /// <summary>The family of the addresses in the range.</summary>
    public AddressFamily AddressFamily { get; }

    /// <summary>The number of leading bits every address in the range shares.</summary>
    public int PrefixLength => _prefixLength;

    /// <summary>Parses a range.</summary>
    /// <param name="text">An address, <c>address/prefix</c>, or IPv4 with trailing <c>*</c> octets.</param>
    /// <returns>The range.</returns>
    /// <exception cref="FormatException">The text is not a range.</exception>
    public static IPAddressRange Parse(string text)
    {
        if (!TryParse(text, out IPAddressRange range))
        {
            throw new FormatException("'" + text + "' is not an IP address range (expected e.g. 192.168.0.1, 192.168.0.*, 192.168.0.0/24 or fe80::/64).");
        }
        return range;
    }

    /// <summary>Tries to parse a range.</summary>
    /// <param name="text">An address, <c>address/prefix</c>, or IPv4 with trailing <c>*</c> octets.</param>
    /// <param name="range">The range, when the text is one.</param>
    /// <returns>Whether the text is a range.</returns>
    public static bool TryParse(string text, out IPAddressRange range)
    {
        range = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        text = text.Trim();
        int slash = text.IndexOf('/');
        if (slash >= 0)
        {
            if (!TryParseAddress(text.Substring(0, slash), out IPAddress network) ||
                !int.TryParse(text.Substring(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int prefix) ||
                prefix > network.GetAddressBytes().Length * 8)
            {
                return false;
            }
            range = new IPAddressRange(network, prefix, text);
            return true;
        }
        if (text.IndexOf('*') >= 0)
        {
            return TryParseWildcard(text, out range);
        }
        if (!TryParseAddress(text, out IPAddress address))
        {
            return false;
        }
        range = new IPAddressRange(address, address.GetAddressBytes().Length * 8, text);
        return true;
    }

    /// <summary>Tells whether an address is in the range; IPv4-mapped IPv6 addresses count as IPv4.</summary>
    /// <param name="address">The address.</param>
    /// <returns>Whether it is in the range.</returns>
    public bool Contains(IPAddress address)
    {
        if (address == null)
        {
            return false;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != AddressFamily)
        {
            return false;
        }
        byte[] bytes = address.GetAddressBytes();
        for (int bit = 0; bit < _prefixLength; bit++)
        {
            int mask = 0x80 >> (bit % 8);
            if ((bytes[bit / 8] & mask) != (_network[bit / 8] & mask))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Returns the range as it was written.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => _text;

    private static bool TryParseWildcard(string text, out IPAddressRange range)
    {
        range = null;
        string[] octets = text.Split('.');
        if (octets.Length != 4)
        {
            return false;
        }
        int fixedOctets = 0;
        while (fixedOctets < 4 && octets[fixedOctets] != "*")
        {
            fixedOctets++;
        }
        for (int i = fixedOctets; i < 4; i++)
        {
            if (octets[i] != "*")
            {
                return false;
            }
        }
        var network = new byte[4];
        for (int i = 0; i < fixedOctets; i++)
        {
            if (!byte.TryParse(octets[i], NumberStyles.None, CultureInfo.InvariantCulture, out network[i]) ||
                network[i].ToString(CultureInfo.InvariantCulture) != octets[i])
            {
                return false;
            }
        }
        range = new IPAddressRange(new IPAddress(network), fixedOctets * 8, text);
        return true;
    }

    /// <summary>
    /// Parses an address; IPv4 only in its canonical dotted-quad form, because IPAddress.TryParse also
    /// takes inet_aton forms that read differently from how an administrator wrote them:
    /// <c>010.0.0.1</c> is octal 8.0.0.1 and <c>192.168.1</c> is 192.168.0.1.
    /// </summary>
    private static bool TryParseAddress(string text, out IPAddress address) =>
        IPAddress.TryParse(text, out address) &&
        (address.AddressFamily != AddressFamily.InterNetwork || address.ToString() == text);
}
