// Copyright (c) The Relay authors.
// Licensed under the MIT licence.

using System.Net;
using System.Net.Http;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace RelayCore.Tests.OAuth;

/// <summary>Answers every HTTP request with one fixed JSON body, for token answers the test endpoint never gives (malformed ones).</summary>
internal sealed class FixedAnswerHandler : HttpMessageHandler
{
    private readonly HttpStatusCode _status;
    private readonly string _body;
    private int _requests;

    internal FixedAnswerHandler(HttpStatusCode status, string body)
    {
        _status = status;
        _body = body;
    }

    internal int Requests => Volatile.Read(ref _requests);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _requests);
        return Task.FromResult(new HttpResponseMessage(_status) { Content = new StringContent(_body, Encoding.UTF8, "application/json") });
    }
}
