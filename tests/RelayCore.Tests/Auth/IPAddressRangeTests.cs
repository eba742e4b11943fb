// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Net;
using RelayCore.Auth;
using Xunit;

namespace RelayCore.Tests.Auth;

public class IPAddressRangeTests
{
    [Theory]
    [InlineData("192.168.0.*", "192.168.0.77", true)]
    [InlineData("192.168.0.*", "192.168.1.77", false)]
    [InlineData("192.168.*.*", "192.168.9.1", true)]
    [InlineData("192.168.0.0/24", "192.168.0.255", true)]
    [InlineData("192.168.0.0/24", "192.168.1.0", false)]
    [InlineData("10.1.2.3", "10.1.2.3", true)]
    [InlineData("10.1.2.3", "10.1.2.4", false)]
    [InlineData("fe80::/64", "fe80::1:2", true)]
    [InlineData("fe80::/64", "fe81::1", false)]
    [InlineData("127.0.0.2", "::ffff:127.0.0.2", true)]
    [InlineData("192.168.0.0/24", "::1", false)]
    public void Contains_Address_MatchesRange(string range, string address, bool expected)
    {
        IPAddressRange parsed = IPAddressRange.Parse(range);

        Assert.Equal(expected, parsed.Contains(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("192.168.*.1")]
    [InlineData("10.0.0.0/33")]
    [InlineData("not-an-address")]
    [InlineData("1.2.3.*.*")]
    [InlineData("010.0.0.0/8")]
    [InlineData("010.*.*.*")]
    [InlineData("192.168.1/24")]
    [InlineData("127.1")]
    [InlineData("0x7f.0.0.1")]
    public void Parse_BadText_ThrowsFormatException(string text)
    {
        Assert.Throws<FormatException>(() => IPAddressRange.Parse(text));
    }
}
