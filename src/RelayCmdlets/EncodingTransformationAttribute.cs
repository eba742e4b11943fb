// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Management.Automation;
using System.Text;

namespace RelayCmdlets;

/// <summary>Lets an <see cref="Encoding"/> parameter take a name (<c>utf-8</c>, <c>iso-8859-1</c>) as well as an object.</summary>
[AttributeUsage(AttributeTargets.Property)]
internal sealed class EncodingTransformationAttribute : ArgumentTransformationAttribute
{
    /// <summary>Turns a name into the encoding; leaves an encoding as it is.</summary>
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        object value = inputData is PSObject wrapped ? wrapped.BaseObject : inputData;
        if (value is not string name)
        {
            return value;
        }
        // PowerShell's own -Encoding names, which are not charset names.
        switch (name.ToLowerInvariant())
        {
            case "utf8":
            case "utf8nobom":
                return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
            case "ascii":
                return Encoding.ASCII;
            case "unicode":
                return Encoding.Unicode;
        }
        try
        {
            return Encoding.GetEncoding(name);
        }
        catch (ArgumentException error)
        {
            throw new ArgumentTransformationMetadataException("'" + name + "' is not a character set name such as utf-8 or iso-8859-1.", error);
        }
    }
}
