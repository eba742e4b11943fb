// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using RelayCore.Auth;
using Xunit;

namespace RelayCore.Tests.Auth;

public class CramMd5Tests
{
    // RFC 2195 section 2's worked example.
    private const string Challenge = "<1896.697170952@postoffice.reston.mci.net>";
    private const string Password = "tanstaaftanstaaf";
    private const string Digest = "b913a602c7eda7a495b4e6e7334d3890";

    [Fact]
    public void ComputeResponse_Rfc2195Example_MatchesRfc()
    {
        string response = CramMd5.ComputeResponse("tim", Password, Challenge);

        Assert.Equal("tim " + Digest, response);
    }

    [Fact]
    public void Verify_PlainAccountRightDigest_ReturnsTrue()
    {
        var account = new SecretEntry(SecretSide.Server, SecretType.Plain, "tim", Password, null, 0);

        Assert.True(CramMd5.Verify(account, Challenge, Digest));
    }

    [Fact]
    public void Verify_Md5AccountRightDigest_ReturnsTrue()
    {
        var account = new SecretEntry(SecretSide.Server, SecretType.Md5, "tim", EmailRelayPasswd.Compute(Password), null, 0);

        Assert.True(CramMd5.Verify(account, Challenge, Digest));
    }

    [Fact]
    public void Verify_Md5AccountWrongDigest_ReturnsFalse()
    {
        var account = new SecretEntry(SecretSide.Server, SecretType.Md5, "tim", EmailRelayPasswd.Compute("other"), null, 0);

        Assert.False(CramMd5.Verify(account, Challenge, Digest));
    }

    [Fact]
    public void CreateChallenge_Domain_HasRfc2195Shape()
    {
        string challenge = CramMd5.CreateChallenge("relay.example");

        Assert.Matches(@"^<\d+\.\d+@relay\.example>$", challenge);
    }
}
