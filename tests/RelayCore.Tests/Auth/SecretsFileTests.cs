// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Net;
using RelayCore.Auth;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Auth;

public class SecretsFileTests
{
    [Fact]
    public void Load_EmailRelayServerAuth_DecodesXTextIdAndSecret()
    {
        SecretsFile secrets = SecretsFile.Load(TestData.SecretsPath("server.auth"));

        SecretEntry account = secrets.FindServerAccount("b/o b");

        Assert.NotNull(account);
        Assert.Equal("wh=t", account.Secret);
        Assert.Equal(SecretType.Plain, account.Type);
    }

    [Fact]
    public void Load_EmailRelayServerAuth_TrustsNoneLineAddress()
    {
        SecretsFile secrets = SecretsFile.Load(TestData.SecretsPath("server.auth"));

        SecretEntry trusted = secrets.FindTrustedRange(IPAddress.Parse("127.0.0.2"));

        Assert.NotNull(trusted);
        Assert.Equal("trusted-lan", trusted.Secret);
        Assert.Null(secrets.FindTrustedRange(IPAddress.Parse("127.0.0.1")));
    }

    [Fact]
    public void Load_EmailRelayClientAuth_ReadsPlainAndMd5Lines()
    {
        SecretsFile secrets = SecretsFile.Load(TestData.SecretsPath("client.auth"));

        Assert.Equal(2, secrets.Entries.Count);
        Assert.Equal(SecretType.Plain, secrets.Entries[0].Type);
        Assert.Equal(SecretType.Md5, secrets.Entries[1].Type);
        Assert.Equal(EmailRelayPasswd.Compute(secrets.Entries[0].Secret), secrets.Entries[1].Secret);
        Assert.Same(secrets.Entries[0], secrets.FindClientAccount(string.Empty));
    }

    [Fact]
    public void Parse_PlainBase64Line_DecodesBase64()
    {
        SecretsFile secrets = SecretsFile.Parse("server plain:b YWxpY2U= czNjcmV0 sel\n", "test");

        SecretEntry entry = secrets.Entries[0];

        Assert.Equal(("alice", "s3cret", "sel", SecretType.PlainBase64), (entry.Id, entry.Secret, entry.Selector, entry.Type));
    }

    [Fact]
    public void Parse_CommentsAndBlankLines_AreIgnored()
    {
        SecretsFile secrets = SecretsFile.Parse("# header\r\n\r\n   \r\nserver plain bob pw # trailing\r\n", "test");

        Assert.Single(secrets.Entries);
        Assert.Equal(4, secrets.Entries[0].LineNumber);
    }

    [Theory]
    [InlineData("server plain alice", 1, "fields")]
    [InlineData("# ok\nfriend plain alice pw", 2, "'client' or 'server'")]
    [InlineData("server rot13 alice pw", 1, "unknown type")]
    [InlineData("server md5 alice notbase64", 1, "md5")]
    [InlineData("client none 10.0.0.1 kw", 1, "server lines only")]
    [InlineData("server none 10.0.0.300 kw", 1, "not an IP address range")]
    [InlineData("server plain:b !!! pw", 1, "base64")]
    public void Parse_BadLine_ThrowsWithLineNumber(string text, int line, string problem)
    {
        var error = Assert.Throws<SecretsFormatException>(() => SecretsFile.Parse(text, "file.auth"));

        Assert.Equal(line, error.LineNumber);
        Assert.Contains(problem, error.Message);
        Assert.StartsWith("file.auth line " + line, error.Message);
    }

    [Fact]
    public void FindServerAccount_PlainAndMd5ForSameId_PrefersPlain()
    {
        SecretsFile secrets = SecretsFile.Parse("server md5 alice " + EmailRelayPasswd.Compute("pw") + "\nserver plain alice pw\n", "test");

        Assert.Equal(SecretType.Plain, secrets.FindServerAccount("alice").Type);
    }
}
