// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Text;
using RelayCore.Auth;
using Xunit;

namespace RelayCore.Tests.Auth;

public class SaslServerTests
{
    private static readonly SecretsFile s_secrets = SecretsFile.Parse(
        "server plain alice s3cret\nserver md5 carol " + EmailRelayPasswd.Compute("md5pw") + "\n", "test");

    [Theory]
    [InlineData("\0alice\0s3cret", "Succeeded")]
    [InlineData("alice\0alice\0s3cret", "Succeeded")]
    [InlineData("\0alice\0wrong", "Failed")]
    [InlineData("bob\0alice\0s3cret", "Failed")]
    [InlineData("\0carol\0md5pw", "Failed")]
    [InlineData("no-nuls", "Malformed")]
    public void Plain_Response_GivesOutcome(string response, string expected)
    {
        SaslServer sasl = SaslServer.Create("plain", s_secrets, "relay.example");

        SaslStep step = sasl.Evaluate(Encoding.UTF8.GetBytes(response));

        Assert.Equal(expected, step.Kind.ToString());
    }

    [Theory]
    [InlineData("s3cret", "Succeeded")]
    [InlineData("S3CRET", "Failed")]
    public void Login_UserThenPassword_GivesOutcome(string password, string expected)
    {
        SaslServer sasl = SaslServer.Create("LOGIN", s_secrets, "relay.example");

        SaslStep first = sasl.Evaluate(null);
        SaslStep second = sasl.Evaluate(Encoding.UTF8.GetBytes("alice"));
        SaslStep third = sasl.Evaluate(Encoding.UTF8.GetBytes(password));

        Assert.Equal("Username:", Encoding.ASCII.GetString(first.Challenge));
        Assert.Equal("Password:", Encoding.ASCII.GetString(second.Challenge));
        Assert.Equal(expected, third.Kind.ToString());
        Assert.Equal("alice", sasl.UserId);
    }

    [Theory]
    [InlineData("alice", "s3cret", "Succeeded")]
    [InlineData("alice", "nope", "Failed")]
    [InlineData("carol", "md5pw", "Succeeded")]
    [InlineData("carol", "nope", "Failed")]
    [InlineData("nobody", "s3cret", "Failed")]
    public void CramMd5_PlainOrMd5Account_GivesOutcome(string user, string password, string expected)
    {
        SaslServer sasl = SaslServer.Create("CRAM-MD5", s_secrets, "relay.example");
        SaslStep challenge = sasl.Evaluate(null);

        string response = CramMd5.ComputeResponse(user, password, Encoding.ASCII.GetString(challenge.Challenge));
        SaslStep step = sasl.Evaluate(Encoding.UTF8.GetBytes(response));

        Assert.Equal(expected, step.Kind.ToString());
    }

    [Fact]
    public void Create_UnknownMechanism_ReturnsNull()
    {
        Assert.Null(SaslServer.Create("XOAUTH2", s_secrets, "relay.example"));
    }
}
