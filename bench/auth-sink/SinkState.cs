// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Collections.Concurrent;
using System.Threading;

namespace AuthSink;

/// <summary>What the sink and its token endpoint share: the one account, the tokens the endpoint issued, and the counters.</summary>
internal sealed class SinkState
{
    private long _messages;
    private long _bytes;
    private long _plainLogins;
    private long _xoauth2Logins;
    private long _refusedLogins;

    internal SinkState(string user, string password)
    {
        User = user;
        Password = password;
    }

    /// <summary>The account: PLAIN's user and password, and the user XOAUTH2 must name.</summary>
    internal string User { get; }

    internal string Password { get; }

    /// <summary>The access tokens the endpoint issued: XOAUTH2 accepts these and nothing else.</summary>
    internal ConcurrentDictionary<string, bool> Tokens { get; } = new ConcurrentDictionary<string, bool>();

    internal void Message(long bytes)
    {
        Interlocked.Increment(ref _messages);
        Interlocked.Add(ref _bytes, bytes);
    }

    internal void Login(string mechanism, bool ok)
    {
        if (!ok)
        {
            Interlocked.Increment(ref _refusedLogins);
        }
        else if (mechanism == "PLAIN")
        {
            Interlocked.Increment(ref _plainLogins);
        }
        else
        {
            Interlocked.Increment(ref _xoauth2Logins);
        }
    }

    /// <summary>The counters as the bench script reads them.</summary>
    internal string Statistics(int tokenRequests) =>
        "STATISTICS messages=" + Interlocked.Read(ref _messages) + " bytes=" + Interlocked.Read(ref _bytes) +
        " plain_logins=" + Interlocked.Read(ref _plainLogins) + " xoauth2_logins=" + Interlocked.Read(ref _xoauth2Logins) +
        " refused_logins=" + Interlocked.Read(ref _refusedLogins) + " token_requests=" + tokenRequests;
}
