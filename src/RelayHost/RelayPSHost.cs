// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.Management.Automation.Host;

namespace RelayHost;

/// <summary>The PowerShell host of the <c>relay</c> executable: a console host without an interactive shell.</summary>
internal sealed class RelayPSHost : PSHost
{
    private readonly RelayUserInterface _ui;

    /// <summary>Creates the host.</summary>
    /// <param name="ui">The user interface every stream is written through.</param>
    public RelayPSHost(RelayUserInterface ui)
    {
        _ui = ui;
    }

    /// <inheritdoc/>
    public override string Name => "relay";

    /// <inheritdoc/>
    public override Version Version { get; } = typeof(RelayPSHost).Assembly.GetName().Version;

    /// <inheritdoc/>
    public override Guid InstanceId { get; } = Guid.NewGuid();

    /// <inheritdoc/>
    public override PSHostUserInterface UI => _ui;

    /// <inheritdoc/>
    public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;

    /// <inheritdoc/>
    public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;

    /// <summary>The code a script passed to <c>exit</c>, or null when none ran.</summary>
    public int? ExitCode { get; private set; }

    /// <inheritdoc/>
    /// <remarks>The engine calls this for <c>exit N</c>; the process ends with N once the pipeline has unwound.</remarks>
    public override void SetShouldExit(int exitCode) => ExitCode = exitCode;

    /// <inheritdoc/>
    /// <remarks>relay runs one command line and has no interactive prompt to suspend into (the Confirm "Suspend" choice).</remarks>
    public override void EnterNestedPrompt() =>
        throw new NotSupportedException("relay has no interactive prompt to suspend into; run the command in pwsh to use nested prompts.");

    /// <inheritdoc/>
    public override void ExitNestedPrompt() =>
        throw new NotSupportedException("relay has no nested prompt to exit.");

    /// <inheritdoc/>
    /// <remarks>relay never changes the console's modes, so there is nothing to hand over to a native program.</remarks>
    public override void NotifyBeginApplication()
    {
    }

    /// <inheritdoc/>
    /// <remarks>Nothing to restore: see <see cref="NotifyBeginApplication"/>.</remarks>
    public override void NotifyEndApplication()
    {
    }
}
