// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Text;
using RelayCore.Smtp;
using Xunit;

namespace RelayCore.Tests.Smtp;

public class SmtpParserTests
{
    [Theory]
    [InlineData("EHLO client.example", "Ehlo", "client.example")]
    [InlineData("ehlo   client.example  ", "Ehlo", "client.example")]
    [InlineData("MaIl FROM:<a@b>", "Mail", "FROM:<a@b>")]
    [InlineData("StartTLS", "StartTls", "")]
    [InlineData("BDAT 10 LAST", "Bdat", "10 LAST")]
    [InlineData("QUIT", "Quit", "")]
    [InlineData("XYZZ", "Unknown", "")]
    [InlineData("STARTTLX", "Unknown", "")]
    [InlineData("", "Unknown", "")]
    public void Parse_CommandLine_FindsVerbAndArgument(string line, string verb, string argument)
    {
        SmtpVerb parsed = SmtpVerbParser.Parse(Encoding.ASCII.GetBytes(line), out ReadOnlySpan<byte> rest);

        Assert.Equal(verb, parsed.ToString());
        Assert.Equal(argument, Encoding.ASCII.GetString(rest));
    }

    [Theory]
    [InlineData("FROM:<alice@example.com>", "alice@example.com", 0)]
    [InlineData("from: <alice@example.com> SIZE=10 BODY=8BITMIME", "alice@example.com", 2)]
    [InlineData("FROM:<>", "", 0)]
    [InlineData("FROM:alice@example.com", "alice@example.com", 0)]
    [InlineData("FROM:<@relay.one,@relay.two:alice@example.com>", "alice@example.com", 0)]
    [InlineData("FROM:<\"a>b\"@example.com> SMTPUTF8", "\"a>b\"@example.com", 1)]
    public void TryParse_MailArgument_GivesAddressAndParameters(string argument, string address, int parameters)
    {
        Assert.True(SmtpPath.TryParse(argument, "FROM:", out SmtpPath path));

        Assert.Equal(address, path.Address);
        Assert.Equal(parameters, path.Parameters.Count);
    }

    [Theory]
    [InlineData("TO:<bob@example.net>")]
    [InlineData("FROM:<unclosed")]
    [InlineData("FROM:<a b@c>")]
    public void TryParse_BadMailArgument_Fails(string argument)
    {
        Assert.False(SmtpPath.TryParse(argument, "FROM:", out _));
    }

    [Fact]
    public void TryParse_Parameters_AreUpperCasedKeysWithValues()
    {
        SmtpPath.TryParse("FROM:<a@b> size=5 smtputf8 AUTH=<a@b>", "FROM:", out SmtpPath path);

        Assert.Equal(("SIZE", "5"), (path.Parameters[0].Key, path.Parameters[0].Value));
        Assert.Equal(("SMTPUTF8", (string)null), (path.Parameters[1].Key, path.Parameters[1].Value));
        Assert.Equal(("AUTH", "<a@b>"), (path.Parameters[2].Key, path.Parameters[2].Value));
    }
}
