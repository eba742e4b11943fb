// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;

namespace RelayCmdlets.Tests.Durability;

/// <summary>
/// The system calls of an <c>strace -f -o</c> log, each with the log positions where it started
/// and returned: strace writes events in the order they happen, so "returned before another
/// started" is a fact about the process, whatever thread made each call.
/// </summary>
internal sealed class SyscallTrace
{
    private static readonly Regex s_complete = new Regex(@"^(\d+)\s+(\w+)\((.*)\)\s+=\s+(.*)$");
    private static readonly Regex s_unfinished = new Regex(@"^(\d+)\s+(\w+)\((.*) <unfinished \.\.\.>$");
    private static readonly Regex s_resumed = new Regex(@"^(\d+)\s+<\.\.\. (\w+) resumed>(.*)\)\s+=\s+(.*)$");

    private SyscallTrace(List<Call> calls) => Calls = calls;

    /// <summary>One call: who made it, its arguments as strace printed them, its result, and where it started and returned.</summary>
    internal sealed record Call(int Thread, string Name, string Arguments, string Result, int Started, int Returned)
    {
        public bool Succeeded => Result.StartsWith('0') || (int.TryParse(Result.Split(' ')[0], CultureInfo.InvariantCulture, out int value) && value >= 0);

        /// <summary>The first argument as a file descriptor, or -1.</summary>
        public int FirstDescriptor => int.TryParse(Arguments.Split(',')[0].Split(' ')[0], CultureInfo.InvariantCulture, out int fd) ? fd : -1;

        public override string ToString() => $"[{Started}-{Returned}] {Thread} {Name}({Arguments}) = {Result}";
    }

    /// <summary>Every completed call, in the order they started.</summary>
    public IReadOnlyList<Call> Calls { get; }

    public static SyscallTrace Parse(IEnumerable<string> lines)
    {
        var calls = new List<Call>();
        var pending = new Dictionary<int, (string Name, string Arguments, int Started)>();
        int position = 0;
        foreach (string line in lines)
        {
            position++;
            Match match;
            if ((match = s_complete.Match(line)).Success)
            {
                calls.Add(new Call(Number(match, 1), match.Groups[2].Value, match.Groups[3].Value, match.Groups[4].Value, position, position));
            }
            else if ((match = s_unfinished.Match(line)).Success)
            {
                pending[Number(match, 1)] = (match.Groups[2].Value, match.Groups[3].Value, position);
            }
            else if ((match = s_resumed.Match(line)).Success && pending.Remove(Number(match, 1), out var start) && start.Name == match.Groups[2].Value)
            {
                calls.Add(new Call(Number(match, 1), start.Name, start.Arguments + match.Groups[3].Value, match.Groups[4].Value, start.Started, position));
            }
        }
        return new SyscallTrace(calls.OrderBy(call => call.Started).ToList());
    }

    /// <summary>The file a descriptor named when a call started: the path of the last open that returned it before then.</summary>
    public string PathAt(int descriptor, int position)
    {
        Call open = Calls.LastOrDefault(call => call.Name == "openat" && call.Returned < position && call.Result == descriptor.ToString(CultureInfo.InvariantCulture));
        return open == null ? null : Regex.Match(open.Arguments, "\"([^\"]*)\"").Groups[1].Value;
    }

    /// <summary>The close of the descriptor an open returned: the first close of that number after it.</summary>
    public Call CloseOf(Call open) =>
        Calls.FirstOrDefault(call => call.Name == "close" && call.Started > open.Returned && call.FirstDescriptor.ToString(CultureInfo.InvariantCulture) == open.Result);

    private static int Number(Match match, int group) => int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);
}
