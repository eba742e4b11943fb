// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using RelayCore.Forwarding;
using RelayCore.Net;
using RelayCore.Spool;

namespace RelayCmdlets;

/// <summary>The progress bar of one forwarding run: messages and bytes settled out of the total.</summary>
internal sealed class ForwardProgress
{
    // Thousands of small messages settle in a second: a host redrawing the bar for each would slow the run.
    private static readonly TimeSpan s_redrawInterval = TimeSpan.FromMilliseconds(200);

    private readonly Stopwatch _sinceRedraw = Stopwatch.StartNew();
    private readonly int _total;
    private readonly long _totalBytes;
    private int _settled;
    private long _bytes;
    private int _sent;
    private int _failed;
    private int _deferred;

    /// <summary>Starts at nothing settled.</summary>
    /// <param name="activityId">The cmdlet's one progress activity id.</param>
    /// <param name="nextHop">The default next hop, named in the activity.</param>
    /// <param name="messages">The messages of the run.</param>
    internal ForwardProgress(int activityId, NextHopAddress nextHop, IReadOnlyCollection<RelayMessage> messages)
    {
        _total = messages.Count;
        _totalBytes = messages.Sum(message => message.Size);
        Record = new ProgressRecord(activityId, "Forwarding to " + nextHop, Describe()) { PercentComplete = 0 };
    }

    /// <summary>The record to write.</summary>
    internal ProgressRecord Record { get; }

    /// <summary>Counts one settled message.</summary>
    /// <param name="result">Its result.</param>
    /// <returns>The updated record when it is time to redraw the bar (or the run is complete); null otherwise.</returns>
    internal ProgressRecord Add(ForwardResult result)
    {
        _settled++;
        switch (result.Outcome)
        {
            case ForwardOutcome.Sent:
                _sent++;
                _bytes += result.Bytes;
                break;
            case ForwardOutcome.Failed:
                _failed++;
                break;
            default:
                _deferred++;
                break;
        }
        if (_sinceRedraw.Elapsed < s_redrawInterval && _settled < _total)
        {
            return null;
        }
        _sinceRedraw.Restart();
        Record.StatusDescription = Describe();
        Record.PercentComplete = _total == 0 ? 100 : (int)(100L * _settled / _total);
        return Record;
    }

    /// <summary>Marks the run finished.</summary>
    /// <returns>The completed record.</returns>
    internal ProgressRecord Complete()
    {
        Record.RecordType = ProgressRecordType.Completed;
        return Record;
    }

    private string Describe() => string.Format(
        CultureInfo.InvariantCulture,
        "{0} of {1} messages ({2} sent, {3} failed, {4} deferred), {5:N0} of {6:N0} bytes sent",
        _settled,
        _total,
        _sent,
        _failed,
        _deferred,
        _bytes,
        _totalBytes);
}
