// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

namespace RelayCmdlets.Tests.Host;

/// <summary>How a finished relay process ended: its exit code and its two output streams.</summary>
internal sealed record RelayResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}
