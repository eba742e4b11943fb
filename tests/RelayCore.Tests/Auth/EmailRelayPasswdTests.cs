// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using RelayCore.Auth;
using RelayCore.Tests.Hosting;
using Xunit;

namespace RelayCore.Tests.Auth;

public class EmailRelayPasswdTests
{
    public static IEnumerable<object[]> Vectors() =>
        File.ReadAllLines(TestData.SecretsPath("passwd-vectors.tsv"))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('\t'))
            .Select(fields => new object[] { fields[0], fields[1] });

    [Theory]
    [MemberData(nameof(Vectors))]
    public void Compute_EmailRelayVector_MatchesEmailRelayPasswdOutput(string password, string expected)
    {
        string secret = EmailRelayPasswd.Compute(password);

        Assert.Equal(expected, secret);
    }

    [Fact]
    public void Compute_VectorFile_HasRows()
    {
        Assert.True(Vectors().Count() >= 3);
    }

    [Theory]
    [InlineData("")]
    [InlineData("s3cret")]
    [InlineData("a key longer than one md5 block of sixty-four bytes, so it gets hashed first!!")]
    public void HmacMd5FromSecret_AnyPassword_EqualsHmacWithThePassword(string password)
    {
        byte[] message = Encoding.ASCII.GetBytes("<1896.697170952@postoffice.reston.mci.net>");

        byte[] fromSecret = EmailRelayPasswd.HmacMd5FromSecret(EmailRelayPasswd.Compute(password), message);

        using var hmac = new HMACMD5(Encoding.UTF8.GetBytes(password));
        Assert.Equal(hmac.ComputeHash(message), fromSecret);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(55)]
    [InlineData(56)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1000)]
    public void Md5Hash_LengthAroundBlockEdges_EqualsPlatformMd5(int length)
    {
        byte[] data = Enumerable.Range(0, length).Select(i => (byte)(i * 7)).ToArray();

        byte[] hash = Md5.Hash(data);

        Assert.Equal(MD5.HashData(data), hash);
    }

    [Fact]
    public void IsValidSecret_WrongLength_ReturnsFalse()
    {
        Assert.False(EmailRelayPasswd.IsValidSecret("c2hvcnQ="));
    }
}
