// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Spool;
using Xunit;

namespace RelayCore.Tests.Spool;

public sealed class SpoolFileWriterTests
{
    [Fact]
    public async Task Write_MixedSizesAroundTheBuffer_FileHoldsEveryByteInOrder()
    {
        using var temp = new TempSpool();
        byte[] expected = Enumerable.Range(0, 10000).Select(i => (byte)(i * 7)).ToArray();
        int[] pieces = { 3, 60, 64, 1, 5000, 100, 4772 };

        using (SpoolFileWriter writer = SpoolFileWriter.CreateNew(temp.FilePath("f"), 64, asynchronous: true))
        {
            int offset = 0;
            for (int i = 0; i < pieces.Length; i++)
            {
                if (i % 2 == 0)
                {
                    await writer.WriteAsync(expected, offset, pieces[i], CancellationToken.None);
                }
                else
                {
                    writer.Write(expected, offset, pieces[i]);
                }
                offset += pieces[i];
            }
            Assert.Equal(expected.Length, writer.Position);
            writer.Flush(flushToDisk: true);
        }

        Assert.Equal(expected, File.ReadAllBytes(temp.FilePath("f")));
    }

    [Fact]
    public void Dispose_BufferedBytes_WrittenOut()
    {
        using var temp = new TempSpool();

        using (SpoolFileWriter writer = SpoolFileWriter.CreateNew(temp.FilePath("f"), 1024, asynchronous: false))
        {
            writer.Write(new byte[] { 1, 2, 3 }, 0, 3);
        }

        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(temp.FilePath("f")));
    }

    [Fact]
    public void CreateNew_FileExists_ThrowsAndKeepsIt()
    {
        using var temp = new TempSpool();
        File.WriteAllText(temp.FilePath("f"), "taken");

        Assert.ThrowsAny<IOException>(() => SpoolFileWriter.CreateNew(temp.FilePath("f"), 1024, asynchronous: false));

        Assert.Equal("taken", File.ReadAllText(temp.FilePath("f")));
    }

    [Fact]
    public void CreateNew_DirectoryMissing_ThrowsDirectoryNotFound()
    {
        using var temp = new TempSpool();

        Assert.Throws<DirectoryNotFoundException>(() => SpoolFileWriter.CreateNew(Path.Combine(temp.FilePath("missing"), "f"), 1024, asynchronous: false));
    }
}
