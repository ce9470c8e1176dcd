using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MailSink.Tests.Support;

/// <summary>
/// A real HTTP server on a free loopback port that records every POST it gets (headers and body) and
/// answers as the test says: a status code, or not at all until the test lets it.
/// </summary>
public sealed class HttpReceiver : IAsyncDisposable
{
    private LoopbackWebServer _server = null!;

    public sealed record Received(IReadOnlyDictionary<string, string> Headers, byte[] Body);

    public string Url => _server.BaseUrl + "/hook";

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>The status for the n-th request (1-based); 200 unless set.</summary>
    public Func<int, int> Status { get; set; } = _ => 200;

    /// <summary>When set, requests wait on it before they are answered (a receiver that hangs).</summary>
    public TaskCompletionSource? Hold { get; set; }

    public static async Task<HttpReceiver> StartAsync()
    {
        var receiver = new HttpReceiver();
        receiver._server = await LoopbackWebServer.StartAsync(app => app.MapPost("/hook", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            receiver.Requests.Enqueue(new Received(headers, body.ToArray()));
            if (receiver.Hold is { } hold)
                await hold.Task;
            context.Response.StatusCode = receiver.Status(receiver.Requests.Count);
        }));
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        Hold?.TrySetResult();
        await _server.DisposeAsync();
    }
}
