// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Management.Automation.Host;

namespace RelayHost;

/// <summary>The raw console of the <c>relay</c> host: sizes for the formatter, keys and colours for prompts.</summary>
/// <remarks>
/// The formatter wraps tables to <see cref="BufferSize"/>, so the width is the terminal's when there is one and a fixed
/// 120 columns when output is redirected, which keeps piped output the same whoever runs it.
/// </remarks>
internal sealed class RelayRawUserInterface : PSHostRawUserInterface
{
    private const string ClearScreen = "\u001b[2J\u001b[3J\u001b[H";
    private readonly ConsoleCapabilities _console;
    private Coordinates _cursorPosition;
    private int _cursorSize = 25;
    private string _windowTitle = "relay";

    /// <summary>Creates the raw interface over the process console.</summary>
    /// <param name="console">What the standard streams are connected to.</param>
    public RelayRawUserInterface(ConsoleCapabilities console)
    {
        _console = console;
    }

    /// <inheritdoc/>
    public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;

    /// <inheritdoc/>
    public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;

    /// <inheritdoc/>
    public override Coordinates CursorPosition
    {
        get => _console.IsOutputTerminal ? ReadCursorPosition() : _cursorPosition;
        set
        {
            _cursorPosition = value;
            if (_console.IsOutputTerminal)
            {
                Console.SetCursorPosition(value.X, value.Y);
            }
        }
    }

    /// <inheritdoc/>
    public override int CursorSize
    {
        get => _cursorSize;
        set => _cursorSize = value;
    }

    /// <inheritdoc/>
    public override Size BufferSize
    {
        get => new Size(_console.GetWidth(), _console.GetHeight());
        set => throw new NotSupportedException("relay cannot resize the terminal's buffer.");
    }

    /// <inheritdoc/>
    public override Coordinates WindowPosition
    {
        get => new Coordinates(0, 0);
        set => throw new NotSupportedException("relay cannot move the terminal's window.");
    }

    /// <inheritdoc/>
    public override Size WindowSize
    {
        get => new Size(_console.GetWidth(), _console.GetHeight());
        set => throw new NotSupportedException("relay cannot resize the terminal's window.");
    }

    /// <inheritdoc/>
    public override Size MaxWindowSize => WindowSize;

    /// <inheritdoc/>
    public override Size MaxPhysicalWindowSize => WindowSize;

    /// <inheritdoc/>
    public override bool KeyAvailable => _console.IsInputTerminal && Console.KeyAvailable;

    /// <inheritdoc/>
    public override string WindowTitle
    {
        get => _windowTitle;
        set
        {
            _windowTitle = value ?? string.Empty;
            if (_console.IsOutputTerminal)
            {
                Console.Title = _windowTitle;
            }
        }
    }

    /// <inheritdoc/>
    public override void FlushInputBuffer()
    {
        // Bounded: a paste still arriving cannot keep this loop going for ever.
        for (int i = 0; i < 4096 && KeyAvailable; i++)
        {
            Console.ReadKey(intercept: true);
        }
    }

    /// <inheritdoc/>
    public override KeyInfo ReadKey(ReadKeyOptions options)
    {
        if (!_console.IsInputTerminal)
        {
            throw new NotSupportedException("relay cannot read a key: standard input is not a terminal.");
        }

        ConsoleKeyInfo key = Console.ReadKey(intercept: (options & ReadKeyOptions.NoEcho) != 0);
        ControlKeyStates states = 0;
        if ((key.Modifiers & ConsoleModifiers.Shift) != 0)
        {
            states |= ControlKeyStates.ShiftPressed;
        }

        if ((key.Modifiers & ConsoleModifiers.Control) != 0)
        {
            states |= ControlKeyStates.LeftCtrlPressed;
        }

        if ((key.Modifiers & ConsoleModifiers.Alt) != 0)
        {
            states |= ControlKeyStates.LeftAltPressed;
        }

        return new KeyInfo((int)key.Key, key.KeyChar, states, keyDown: true);
    }

    /// <inheritdoc/>
    public override BufferCell[,] GetBufferContents(Rectangle rectangle) =>
        throw new NotSupportedException("relay cannot read back the terminal's screen.");

    /// <inheritdoc/>
    public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill) =>
        throw new NotSupportedException("relay cannot scroll the terminal's screen.");

    /// <inheritdoc/>
    public override void SetBufferContents(Coordinates origin, BufferCell[,] contents) =>
        throw new NotSupportedException("relay cannot write cells to the terminal's screen.");

    /// <inheritdoc/>
    /// <remarks>Only the whole-screen clear that Clear-Host asks for (a rectangle of -1s) is supported.</remarks>
    public override void SetBufferContents(Rectangle rectangle, BufferCell fill)
    {
        bool isWholeScreen = rectangle.Left == -1 && rectangle.Top == -1 && rectangle.Right == -1 && rectangle.Bottom == -1;
        if (!isWholeScreen)
        {
            throw new NotSupportedException("relay can only clear the whole terminal screen.");
        }

        if (_console.IsOutputTerminal)
        {
            Console.Out.Write(ClearScreen);
        }
    }

    private static Coordinates ReadCursorPosition()
    {
        (int left, int top) = Console.GetCursorPosition();
        return new Coordinates(left, top);
    }
}
