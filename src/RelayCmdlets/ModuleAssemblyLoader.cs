// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

#if !NET
using System;
#endif
using System.IO;
using System.Management.Automation;
using System.Reflection;
#if NET
using System.Runtime.Loader;
#endif

namespace RelayCmdlets;

/// <summary>
/// Loads RelayCore and its dependencies (MailKit, MimeKit, BouncyCastle) from the module's
/// <c>Dependencies</c> folder when PowerShell imports the module.
/// </summary>
/// <remarks>
/// Relay.psm1 calls <see cref="Register"/> before importing the cmdlets: listing them loads types
/// whose field layout needs RelayCore (enum-typed parameters), before <see cref="OnImport"/> runs.
/// Other modules in the same session may load their own MailKit or MimeKit. On PowerShell 7 the
/// dependencies go into Relay's own <c>AssemblyLoadContext</c>, so versions never clash; on
/// Windows PowerShell 5.1 there is one load context, and the folder is only a probing path.
/// </remarks>
public sealed class ModuleAssemblyLoader : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static readonly string s_dependencyFolder =
        Path.Combine(Path.GetDirectoryName(typeof(ModuleAssemblyLoader).Assembly.Location), "Dependencies");

    private static readonly object s_gate = new object();
    private static bool s_isRegistered;

#if NET
    private static readonly AssemblyLoadContext s_loadContext = new DependencyLoadContext(s_dependencyFolder);

    /// <summary>Registers the resolver before any cmdlet touches a RelayCore type.</summary>
    public void OnImport() => Register();

    /// <summary>Unregisters the resolver when the module is removed.</summary>
    /// <param name="psModuleInfo">The module being removed.</param>
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        lock (s_gate)
        {
            if (s_isRegistered)
            {
                AssemblyLoadContext.Default.Resolving -= ResolveDependency;
                s_isRegistered = false;
            }
        }
    }

    /// <summary>Registers the dependency resolver once, however often it is called.</summary>
    public static void Register()
    {
        lock (s_gate)
        {
            if (!s_isRegistered)
            {
                AssemblyLoadContext.Default.Resolving += ResolveDependency;
                s_isRegistered = true;
            }
        }
    }

    private static Assembly ResolveDependency(AssemblyLoadContext requester, AssemblyName name)
    {
        string path = Path.Combine(s_dependencyFolder, name.Name + ".dll");
        return File.Exists(path) ? s_loadContext.LoadFromAssemblyName(name) : null;
    }

    private sealed class DependencyLoadContext : AssemblyLoadContext
    {
        private readonly string _folder;

        public DependencyLoadContext(string folder)
            : base("Relay", isCollectible: false)
        {
            _folder = folder;
        }

        protected override Assembly Load(AssemblyName assemblyName)
        {
            string path = Path.Combine(_folder, assemblyName.Name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
#else
    /// <summary>Registers the resolver before any cmdlet touches a RelayCore type.</summary>
    public void OnImport() => Register();

    /// <summary>Unregisters the resolver when the module is removed.</summary>
    /// <param name="psModuleInfo">The module being removed.</param>
    public void OnRemove(PSModuleInfo psModuleInfo)
    {
        lock (s_gate)
        {
            if (s_isRegistered)
            {
                AppDomain.CurrentDomain.AssemblyResolve -= ResolveDependency;
                s_isRegistered = false;
            }
        }
    }

    /// <summary>Registers the dependency resolver once, however often it is called.</summary>
    public static void Register()
    {
        lock (s_gate)
        {
            if (!s_isRegistered)
            {
                AppDomain.CurrentDomain.AssemblyResolve += ResolveDependency;
                s_isRegistered = true;
            }
        }
    }

    private static Assembly ResolveDependency(object sender, ResolveEventArgs args)
    {
        string path = Path.Combine(s_dependencyFolder, new AssemblyName(args.Name).Name + ".dll");
        return File.Exists(path) ? Assembly.LoadFrom(path) : null;
    }
#endif
}
