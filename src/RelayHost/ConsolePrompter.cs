// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Globalization;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace RelayHost;

/// <summary>Asks a person at a terminal: lines, secrets, choices, credentials and mandatory parameter values.</summary>
/// <remarks>
/// Prompts are written to standard error, so that standard output carries only results even when a person answers a
/// -Confirm prompt. When standard input is not a terminal, every prompt fails at once with a
/// <see cref="PromptingException"/>: an answer read from a pipe was not given by anyone who saw the question.
/// </remarks>
internal sealed class ConsolePrompter
{
    /// <summary>How many wrong answers a choice prompt takes before it gives up.</summary>
    private const int MaxChoiceAttempts = 32;

    /// <summary>The longest secret accepted, so a stuck key cannot grow it without end.</summary>
    private const int MaxSecretLength = 4096;

    private readonly TextReader _input;
    private readonly TextWriter _prompt;
    private readonly string _cannotPromptReason;

    /// <summary>Creates the prompter.</summary>
    /// <param name="input">Standard input.</param>
    /// <param name="prompt">Where questions are written (standard error).</param>
    /// <param name="cannotPromptReason">Why nobody can answer (e.g. "standard input is not a terminal"), or null when someone can.</param>
    public ConsolePrompter(TextReader input, TextWriter prompt, string cannotPromptReason)
    {
        _input = input;
        _prompt = prompt;
        _cannotPromptReason = cannotPromptReason;
    }

    /// <summary>Reads one line typed by the user.</summary>
    /// <returns>The line, without its end.</returns>
    /// <exception cref="PromptingException">Nobody can answer, or input ended.</exception>
    public string ReadLine()
    {
        EnsureCanPrompt("read a line of input");
        return _input.ReadLine() ?? throw new PromptingException("relay: standard input ended while a line was being read.");
    }

    /// <summary>Reads one line without echoing it.</summary>
    /// <returns>The secret.</returns>
    /// <exception cref="PromptingException">Nobody can answer.</exception>
    public SecureString ReadSecret()
    {
        EnsureCanPrompt("read a secret");
        var secret = new SecureString();
        for (int i = 0; i < MaxSecretLength; i++)
        {
            ConsoleKeyInfo key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (secret.Length > 0)
                {
                    secret.RemoveAt(secret.Length - 1);
                }

                continue;
            }

            if (key.KeyChar != '\0')
            {
                secret.AppendChar(key.KeyChar);
            }
        }

        _prompt.WriteLine();
        secret.MakeReadOnly();
        return secret;
    }

    /// <summary>Asks the user to pick one of several choices, as ShouldProcess's -Confirm does.</summary>
    /// <param name="caption">The title.</param>
    /// <param name="message">The question.</param>
    /// <param name="choices">The choices; an ampersand in a label marks its hot key.</param>
    /// <param name="defaultChoice">The index chosen by an empty answer, or -1 for none.</param>
    /// <returns>The index of the chosen choice.</returns>
    /// <exception cref="PromptingException">Nobody can answer, input ended, or no valid answer came.</exception>
    public int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
    {
        EnsureCanPrompt(string.IsNullOrEmpty(caption) ? "ask for a choice" : $"ask '{caption}'");
        WriteHeading(caption, message);
        var keys = new List<(string HotKey, string Label)>();
        foreach (ChoiceDescription choice in choices)
        {
            keys.Add(SplitHotKey(choice.Label));
        }

        string menu = BuildMenu(keys, defaultChoice);
        for (int attempt = 0; attempt < MaxChoiceAttempts; attempt++)
        {
            _prompt.Write(menu);
            string answer = ReadAnswer().Trim();
            if (answer.Length == 0 && defaultChoice >= 0)
            {
                return defaultChoice;
            }

            if (answer == "?")
            {
                for (int i = 0; i < choices.Count; i++)
                {
                    _prompt.WriteLine($"{keys[i].HotKey} - {choices[i].HelpMessage}");
                }

                continue;
            }

            int chosen = keys.FindIndex(k =>
                (k.HotKey.Length > 0 && string.Equals(k.HotKey, answer, StringComparison.OrdinalIgnoreCase))
                || string.Equals(k.Label, answer, StringComparison.OrdinalIgnoreCase));
            if (chosen >= 0)
            {
                return chosen;
            }
        }

        throw new PromptingException($"relay: no valid answer to '{caption}' after {MaxChoiceAttempts} attempts.");
    }

    /// <summary>Asks for the values of several fields, as the engine does for missing mandatory parameters.</summary>
    /// <param name="caption">The title.</param>
    /// <param name="message">The explanation.</param>
    /// <param name="descriptions">The fields.</param>
    /// <returns>The values by field name.</returns>
    /// <exception cref="PromptingException">Nobody can answer, or input ended.</exception>
    public Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
    {
        EnsureCanPrompt("ask for parameter values");
        WriteHeading(caption, message);
        var values = new Dictionary<string, PSObject>(StringComparer.OrdinalIgnoreCase);
        foreach (FieldDescription field in descriptions)
        {
            string label = SplitHotKey(string.IsNullOrEmpty(field.Label) ? field.Name : field.Label).Label;
            values[field.Name] = ReadField(field, label);
        }

        return values;
    }

    /// <summary>Asks for a user name (unless given) and a password.</summary>
    /// <param name="caption">The title.</param>
    /// <param name="message">The explanation.</param>
    /// <param name="userName">The user name, or empty to ask for it.</param>
    /// <returns>The credential.</returns>
    /// <exception cref="PromptingException">Nobody can answer, or input ended.</exception>
    public PSCredential PromptForCredential(string caption, string message, string userName)
    {
        EnsureCanPrompt("ask for a credential");
        WriteHeading(caption, message);
        if (string.IsNullOrEmpty(userName))
        {
            _prompt.Write("User: ");
            userName = ReadAnswer();
        }

        _prompt.Write($"Password for user {userName}: ");
        return new PSCredential(userName, ReadSecret());
    }

    private PSObject ReadField(FieldDescription field, string label)
    {
        if (field.ParameterTypeFullName == typeof(SecureString).FullName)
        {
            _prompt.Write($"{label}: ");
            return new PSObject(ReadSecret());
        }

        if (field.ParameterTypeFullName == typeof(PSCredential).FullName)
        {
            return new PSObject(PromptForCredential(null, null, null));
        }

        if (field.ParameterTypeFullName != null && field.ParameterTypeFullName.EndsWith("[]", StringComparison.Ordinal))
        {
            // As pwsh does: one element per line, an empty line ends the list.
            var items = new List<string>();
            for (int i = 0; ; i++)
            {
                _prompt.Write(string.Format(CultureInfo.InvariantCulture, "{0}[{1}]: ", label, i));
                string item = ReadAnswer();
                if (item.Length == 0)
                {
                    return new PSObject(items.ToArray());
                }

                items.Add(item);
            }
        }

        _prompt.Write($"{label}: ");
        string answer = ReadAnswer();
        if (answer.Length == 0 && field.DefaultValue != null)
        {
            return field.DefaultValue;
        }

        return new PSObject(answer);
    }

    private string ReadAnswer() =>
        _input.ReadLine() ?? throw new PromptingException("relay: standard input ended before the question was answered.");

    private void WriteHeading(string caption, string message)
    {
        if (!string.IsNullOrEmpty(caption))
        {
            _prompt.WriteLine(caption);
        }

        if (!string.IsNullOrEmpty(message))
        {
            _prompt.WriteLine(message);
        }
    }

    private void EnsureCanPrompt(string what)
    {
        if (_cannotPromptReason != null)
        {
            throw new PromptingException(
                $"relay cannot {what}: {_cannotPromptReason}. Pass the value as a parameter, or -Confirm:$false to skip a confirmation.");
        }
    }

    private static string BuildMenu(List<(string HotKey, string Label)> keys, int defaultChoice)
    {
        var menu = new System.Text.StringBuilder();
        foreach ((string hotKey, string label) in keys)
        {
            menu.Append('[').Append(hotKey.Length > 0 ? hotKey : label).Append("] ").Append(label).Append("  ");
        }

        menu.Append("[?] Help");
        if (defaultChoice >= 0 && defaultChoice < keys.Count)
        {
            string defaultKey = keys[defaultChoice].HotKey.Length > 0 ? keys[defaultChoice].HotKey : keys[defaultChoice].Label;
            menu.Append(" (default is \"").Append(defaultKey).Append("\")");
        }

        return menu.Append(": ").ToString();
    }

    /// <summary>Splits "&amp;Yes to All" into the hot key "Y" and the label "Yes to All".</summary>
    private static (string HotKey, string Label) SplitHotKey(string text)
    {
        int amp = text.IndexOf('&');
        if (amp < 0 || amp == text.Length - 1)
        {
            return (string.Empty, text);
        }

        string hotKey = text.Substring(amp + 1, 1).ToUpperInvariant();
        return (hotKey, text.Remove(amp, 1));
    }
}
