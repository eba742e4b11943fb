// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;
using RelayCore.Hosting;

namespace RelayCmdlets;

/// <summary>The relay servers running in this process, by name.</summary>
/// <remarks>
/// Process-wide rather than per runspace: a server outlives the runspace that started it (its
/// sockets and threads belong to the process), and Stop-RelayServer in another runspace or thread
/// (a PowerShell job, a second tab of a host, a test) must find the server that
/// <c>Start-RelayServer -Wait</c> is blocked on. Names are compared case-insensitively, as
/// PowerShell compares names.
/// </remarks>
internal static class RelayServerRegistry
{
    private static readonly object s_gate = new object();

    // A name maps to null while its server is starting: the name is taken, the server not yet listed.
    private static readonly Dictionary<string, RelayServerInstance> s_servers =
        new Dictionary<string, RelayServerInstance>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Takes a name for a server about to start.</summary>
    /// <param name="name">The server's name.</param>
    /// <returns>False when a running or starting server already has the name.</returns>
    internal static bool TryReserve(string name)
    {
        lock (s_gate)
        {
            if (s_servers.ContainsKey(name))
            {
                return false;
            }
            s_servers.Add(name, null);
            return true;
        }
    }

    /// <summary>Gives back a reserved name whose server did not start.</summary>
    /// <param name="name">The name passed to <see cref="TryReserve"/>.</param>
    internal static void Release(string name)
    {
        lock (s_gate)
        {
            if (s_servers.TryGetValue(name, out RelayServerInstance entry) && entry == null)
            {
                s_servers.Remove(name);
            }
        }
    }

    /// <summary>Lists a started server under its reserved name until it stops.</summary>
    /// <param name="server">The running server.</param>
    /// <returns>The PowerShell-facing server object.</returns>
    internal static RelayServerInstance Register(RelayServer server)
    {
        var instance = new RelayServerInstance(server);
        lock (s_gate)
        {
            s_servers[server.Name] = instance;
        }
        // However it stops (Stop-RelayServer, Ctrl+C on -Wait, a fatal error), it leaves the list.
        server.Completion.ContinueWith(_ => Remove(instance), TaskScheduler.Default);
        return instance;
    }

    /// <summary>Takes a stopped server off the list; a later server of the same name stays.</summary>
    /// <param name="instance">The server.</param>
    internal static void Remove(RelayServerInstance instance)
    {
        lock (s_gate)
        {
            if (s_servers.TryGetValue(instance.Name, out RelayServerInstance entry) && ReferenceEquals(entry, instance))
            {
                s_servers.Remove(instance.Name);
            }
        }
    }

    /// <summary>Finds running servers by name, in name order, each once.</summary>
    /// <param name="names">Names or wildcard patterns; every server when null.</param>
    /// <param name="missing">Receives each name without wildcards that matched no server.</param>
    /// <returns>The servers.</returns>
    internal static IReadOnlyList<RelayServerInstance> Find(IReadOnlyCollection<string> names, ICollection<string> missing)
    {
        List<RelayServerInstance> running;
        lock (s_gate)
        {
            running = s_servers.Values.Where(instance => instance != null).ToList();
        }
        running.Sort((a, b) => StringComparer.OrdinalIgnoreCase.Compare(a.Name, b.Name));
        if (names == null)
        {
            return running;
        }
        var found = new HashSet<RelayServerInstance>();
        foreach (string name in names)
        {
            var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
            bool matched = false;
            foreach (RelayServerInstance instance in running.Where(instance => pattern.IsMatch(instance.Name)))
            {
                found.Add(instance);
                matched = true;
            }
            if (!matched && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                missing.Add(name);
            }
        }
        return running.Where(found.Contains).ToList();
    }
}
