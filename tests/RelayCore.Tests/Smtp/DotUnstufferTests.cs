// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.Text;
using RelayCore.Smtp;
using Xunit;

namespace RelayCore.Tests.Smtp;

public class DotUnstufferTests
{
    private const string Text = "Subject: x\r\n\r\n..stuffed\r\n.\r.odd\r\nplain\r\n.\r\ntrailing";

    [Fact]
    public void Process_WholeText_UnstuffsAndStopsAtEndLine()
    {
        (string output, bool ended, int consumed) = Run(Text, Text.Length);

        Assert.True(ended);
        Assert.Equal("Subject: x\r\n\r\n.stuffed\r\n\r.odd\r\nplain\r\n", output);
        Assert.Equal(Text.IndexOf("trailing"), consumed);
    }

    public static IEnumerable<object[]> SplitPoints()
    {
        for (int split = 1; split < Text.Length; split++)
        {
            yield return new object[] { split };
        }
    }

    [Theory]
    [MemberData(nameof(SplitPoints))]
    public void Process_SplitAtAnyByte_GivesSameOutput(int split)
    {
        (string output, bool ended, int consumed) = Run(Text, split);

        Assert.True(ended);
        Assert.Equal("Subject: x\r\n\r\n.stuffed\r\n\r.odd\r\nplain\r\n", output);
        Assert.Equal(Text.IndexOf("trailing"), consumed);
    }

    [Theory]
    [InlineData("a\n..b\n.\n", "a\n..b\n.\n")]
    [InlineData("a\r\n.\nb", "a\r\n\nb")]
    [InlineData("a\n.\r\nb", "a\n.\r\nb")]
    public void Process_BareLfAroundDotLine_IsTextNotTheEnd(string text, string expected)
    {
        for (int piece = 1; piece <= text.Length; piece++)
        {
            (string output, bool ended, _) = Run(text, piece);

            Assert.False(ended);
            Assert.Equal(expected, output);
        }
    }

    [Fact]
    public void Process_CrLfEndAfterBareLfLines_Ends()
    {
        (string output, bool ended, _) = Run("a\nb\r\n..c\r\n.\r\n", 100);

        Assert.True(ended);
        Assert.Equal("a\nb\r\n.c\r\n", output);
    }

    [Fact]
    public void Process_EndMarkerWithoutPrecedingLine_EndsWithEmptyMessage()
    {
        (string output, bool ended, _) = Run(".\r\n", 100);

        Assert.True(ended);
        Assert.Equal(string.Empty, output);
    }

    [Theory]
    [InlineData(10, false)]
    [InlineData(9, true)]
    public void Process_LineAtOrOverLimit_FlagsOnlyOverLimit(int limit, bool expectTooLong)
    {
        var unstuffer = new DotUnstuffer(limit);
        byte[] data = Encoding.ASCII.GetBytes("12345678\r\n.\r\n");

        unstuffer.Process(data, out _, out _);

        Assert.Equal(expectTooLong, unstuffer.IsLineTooLong);
    }

    /// <summary>Feeds the text in pieces of at most <paramref name="piece"/> bytes, as a socket might deliver it.</summary>
    private static (string Output, bool Ended, int Consumed) Run(string text, int piece)
    {
        byte[] all = Encoding.ASCII.GetBytes(text);
        var unstuffer = new DotUnstuffer(1000);
        var output = new StringBuilder();
        int position = 0;
        int available = 0;
        while (true)
        {
            available = System.Math.Min(all.Length, available + piece);
            byte[] window = all[position..available];
            int consumed = unstuffer.Process(window, out int length, out bool ended);
            output.Append(Encoding.ASCII.GetString(window, 0, length));
            position += consumed;
            if (ended || available == all.Length)
            {
                return (output.ToString(), ended, position);
            }
        }
    }
}
