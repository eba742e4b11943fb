// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Globalization;
using System.Management.Automation;

namespace RelayCmdlets;

/// <summary>Validates that a <see cref="TimeSpan"/> parameter lies within a range of seconds.</summary>
/// <remarks>
/// <c>ValidateRange</c> cannot take TimeSpan bounds. Spans must also be whole milliseconds, which
/// catches a bare number: PowerShell converts <c>-IdleTimeout 30</c> to 30 ticks, not 30 seconds.
/// </remarks>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
internal sealed class ValidateTimeSpanRangeAttribute : ValidateArgumentsAttribute
{
    private readonly TimeSpan _minimum;
    private readonly TimeSpan _maximum;

    /// <summary>Sets the range.</summary>
    /// <param name="minimumSeconds">The shortest span allowed, in seconds.</param>
    /// <param name="maximumSeconds">The longest span allowed, in seconds.</param>
    public ValidateTimeSpanRangeAttribute(double minimumSeconds, double maximumSeconds)
    {
        _minimum = TimeSpan.FromSeconds(minimumSeconds);
        _maximum = TimeSpan.FromSeconds(maximumSeconds);
    }

    /// <summary>Throws when the argument is not a TimeSpan within the range.</summary>
    /// <param name="arguments">The bound value.</param>
    /// <param name="engineIntrinsics">Unused.</param>
    protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
    {
        object value = arguments is PSObject wrapped ? wrapped.BaseObject : arguments;
        if (!(value is TimeSpan span) || span < _minimum || span > _maximum || span.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            throw new ValidationMetadataException(string.Format(
                CultureInfo.InvariantCulture,
                "The argument '{0}' is not a time span of whole milliseconds from {1} to {2} (write it as hh:mm:ss, or New-TimeSpan -Seconds n).",
                value,
                _minimum,
                _maximum));
        }
    }
}
