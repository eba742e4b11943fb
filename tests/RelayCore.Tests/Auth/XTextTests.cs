// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using RelayCore.Auth;
using Xunit;

namespace RelayCore.Tests.Auth;

public class XTextTests
{
    [Theory]
    [InlineData("b/o b", "b/o+20b")]
    [InlineData("wh=t", "wh+3Dt")]
    [InlineData("a+b", "a+2Bb")]
    [InlineData("jörg", "j+C3+B6rg")]
    [InlineData("", "")]
    public void Encode_Text_MatchesRfc3461(string text, string expected)
    {
        Assert.Equal(expected, XText.Encode(text));
    }

    [Theory]
    [InlineData("b+2Fo+20b", "b/o b")]
    [InlineData("wh+3Dt", "wh=t")]
    [InlineData("plus+", "plus+")]
    [InlineData("bad+zz", "bad+zz")]
    [InlineData("emoji😀x", "emoji😀x")]
    public void Decode_XText_GivesText(string xtext, string expected)
    {
        Assert.Equal(expected, XText.Decode(xtext));
    }
}
