// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RelayCore.Spool;
using Xunit;

namespace RelayCore.Tests.Spool;

/// <summary>Recovery run by a server's forwarding passes while the same process is receiving into the spool.</summary>
public sealed class RecoverWhileReceivingTests
{
    [Fact]
    public async Task Recover_WhileThisProcessCommitsMessages_NeverDeletesACommittedMessagesContent()
    {
        using var spool = new TempSpool();
        using var stop = new CancellationTokenSource();
        Task recovering = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                spool.Spool.Recover();
            }
        });
        var committed = new List<RelayMessage>();

        for (int i = 0; i < 300; i++)
        {
            committed.Add(await spool.CommitAsync("Subject: " + i + "\r\n\r\nbody\r\n"));
        }
        stop.Cancel();
        await recovering;

        Assert.Empty(committed.Where(message => !File.Exists(message.ContentPath)).Select(message => message.Id));
    }
}
