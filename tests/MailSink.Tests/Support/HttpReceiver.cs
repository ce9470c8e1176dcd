using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MailSink.Tests.Support;

/// <summary>
/// A real HTTP server on a free loopback port that records every POST it gets (headers and body) and
/// answers as the test says: a status code, or not at all until the test lets it.
/// </summary>
public sealed class HttpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HttpReceiver(WebApplication app)
    {
        _app = app;
        Url = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First() + "/hook";
    }

    public sealed record Received(IReadOnlyDictionary<string, string> Headers, byte[] Body);

    public string Url { get; }

    public ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>The status for the n-th request (1-based); 200 unless set.</summary>
    public Func<int, int> Status { get; set; } = _ => 200;

    /// <summary>When set, requests wait on it before they are answered (a receiver that hangs).</summary>
    public TaskCompletionSource? Hold { get; set; }

    public static async Task<HttpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        HttpReceiver? receiver = null;
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            receiver!.Requests.Enqueue(new Received(headers, body.ToArray()));
            if (receiver.Hold is { } hold)
                await hold.Task;
            context.Response.StatusCode = receiver.Status(receiver.Requests.Count);
        });
        await app.StartAsync();
        receiver = new HttpReceiver(app);
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        Hold?.TrySetResult();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
