// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Text.RegularExpressions;

namespace RelayCore.Spool;

/// <summary>A message id or a wildcard pattern of ids (<c>*</c> any run, <c>?</c> one character).</summary>
internal sealed class IdPattern
{
    private readonly Regex _regex;

    private IdPattern(Regex regex) => _regex = regex;

    internal static IdPattern Create(string pattern) =>
        new IdPattern(new Regex("^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant));

    internal bool IsMatch(string id) => _regex.IsMatch(id);
}
