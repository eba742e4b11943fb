// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using RelayCore.Forwarding;
using RelayCore.Hosting;
using RelayCore.Smtp;
using Xunit;

namespace RelayCore.Tests.Smtp;

/// <summary>The immediate-mode reply built from the next hop's verdict, for verdicts real next hops rarely give.</summary>
public sealed class ImmediateReplyTests
{
    private const string Id = "emailrelay.1.2.3";

    [Theory]
    [InlineData(ForwardOutcome.Failed, 550, "User unknown", "550 5.0.0 User unknown")]
    [InlineData(ForwardOutcome.Failed, 550, "5.1.1 User unknown", "550 5.1.1 User unknown")]
    [InlineData(ForwardOutcome.Failed, null, "mailbox needs SMTPUTF8", "554 5.0.0 mailbox needs SMTPUTF8")]
    [InlineData(ForwardOutcome.Failed, 451, "4.3.0 odd", "554 5.0.0 4.3.0 odd")]
    [InlineData(ForwardOutcome.Deferred, 421, "4.7.0 try\r\nlater", "421 4.7.0 try  later")]
    [InlineData(ForwardOutcome.Deferred, 450, "busy", "450 4.4.0 busy")]
    [InlineData(ForwardOutcome.Deferred, 554, "5.0.0 odd", "451 4.4.0 5.0.0 odd")]
    public void ImmediateReply_RefusalWithdrawn_PassesOnTheNextHopsCodeClassAndText(ForwardOutcome outcome, int? code, string text, string expected)
    {
        var result = new ForwardResult(Id, outcome, "127.0.0.1:25", code, text, null, null, 0, TimeSpan.Zero);

        string reply = SmtpSession.ImmediateReply(Id, new ImmediateOutcome(result, isWithdrawn: true));

        Assert.Equal(expected, reply);
    }

    [Fact]
    public void ImmediateReply_DeferredButTheSpoolKeptIt_Is250Queued()
    {
        var result = new ForwardResult(Id, ForwardOutcome.Deferred, "127.0.0.1:25", 451, "4.3.0 later", null, null, 0, TimeSpan.Zero);

        string reply = SmtpSession.ImmediateReply(Id, new ImmediateOutcome(result, isWithdrawn: false));

        Assert.Equal("250 2.0.0 OK id=" + Id + " queued: the next hop said 451 4.3.0 later", reply);
    }

    [Fact]
    public void ImmediateReply_SentWithSomeRecipientsRefused_Is250SayingSo()
    {
        var result = new ForwardResult(Id, ForwardOutcome.Sent, "127.0.0.1:25", 250, "2.0.0 Ok", new[] { "a@example.net" }, new[] { "b@example.net" }, 10, TimeSpan.Zero);

        string reply = SmtpSession.ImmediateReply(Id, new ImmediateOutcome(result, isWithdrawn: false));

        Assert.Equal("250 2.0.0 OK id=" + Id + " forwarded to 127.0.0.1:25: 250 2.0.0 Ok; 1 recipient(s) refused, kept as bad", reply);
    }

    [Fact]
    public void ImmediateReply_LongNonAsciiText_IsOneShortAsciiLine()
    {
        var result = new ForwardResult(Id, ForwardOutcome.Failed, "127.0.0.1:25", 550, "5.7.1 Grüße " + new string('x', 1000), null, null, 0, TimeSpan.Zero);

        string reply = SmtpSession.ImmediateReply(Id, new ImmediateOutcome(result, isWithdrawn: true));

        Assert.StartsWith("550 5.7.1 Gr??e xxx", reply);
        Assert.True(reply.Length < 512, reply.Length + " octets");
    }
}
