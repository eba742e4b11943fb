// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using RelayCore.Spool;
using Xunit;

namespace RelayCore.Tests.Spool;

public sealed class FileDurabilityTests
{
    [Fact]
    public void Move_DestinationExists_ThrowsAndKeepsBoth()
    {
        using var temp = new TempSpool();
        File.WriteAllText(temp.FilePath("a"), "source");
        File.WriteAllText(temp.FilePath("b"), "destination");

        Assert.ThrowsAny<IOException>(() => FileDurability.Move(temp.FilePath("a"), temp.FilePath("b"), writeThrough: true));

        Assert.Equal("source", File.ReadAllText(temp.FilePath("a")));
        Assert.Equal("destination", File.ReadAllText(temp.FilePath("b")));
    }

    [Fact]
    public void Move_SourceMissing_ThrowsFileNotFound()
    {
        using var temp = new TempSpool();

        Assert.Throws<FileNotFoundException>(() => FileDurability.Move(temp.FilePath("gone"), temp.FilePath("b"), writeThrough: false));
    }

    [Fact]
    public void Move_NonAsciiName_Renamed()
    {
        using var temp = new TempSpool();
        File.WriteAllText(temp.FilePath("müller.new"), "x");

        FileDurability.Move(temp.FilePath("müller.new"), temp.FilePath("müller"), writeThrough: true);

        Assert.True(File.Exists(temp.FilePath("müller")));
        Assert.False(File.Exists(temp.FilePath("müller.new")));
    }
}
