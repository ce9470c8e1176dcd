using System.Text.Json;
using MailSink.Storage;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MailSink.Api;

/// <summary>
/// <c>api/events</c>: a server-sent event stream of arrivals, one <c>message</c> event (a message summary,
/// as <c>api/messages</c> lists it) per message the moment it is committed, for one inbox
/// (<c>?server=</c>) or all. It is behind the API key like every <c>/api</c> path, with the key in the
/// Authorization header: the web UI reads the stream with <c>fetch</c>, which can send it, so the key
/// never appears in a URL, a log line or the browser history.
/// </summary>
internal static class EventsApi
{
    public static RouteGroupBuilder MapEventsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/events", Stream).WithTags("Events").WithName("StreamEvents")
            .WithSummary("Server-sent events: a 'message' event with the summary of each message as it is stored; comment heartbeats every 15 s.")
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        return api;
    }

    private static Task Stream(
        HttpContext context,
        ArrivalFeed feed,
        IOptions<JsonOptions> json,
        IHostApplicationLifetime lifetime,
        string? server)
    {
        if (!string.IsNullOrWhiteSpace(server) && QueryParameters.NotAnInbox(server) is { } notAnInbox)
            return notAnInbox.ExecuteAsync(context);
        if (HttpMethods.IsHead(context.Request.Method))
        {
            ArrivalEventStream.WriteHeaders(context.Response);
            return Task.CompletedTask;
        }

        var inbox = string.IsNullOrWhiteSpace(server) ? null : MessagesApi.Inbox(server);
        // A stream never ends by itself: end it when the client goes or the host stops (a graceful stop
        // would otherwise wait its whole timeout for open streams).
        var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        context.Response.RegisterForDispose(stop);
        var stream = new ArrivalEventStream(feed, inbox, ArrivalEventStream.DefaultCapacity, json.Value.SerializerOptions);
        return stream.RunAsync(context.Response, ArrivalEventStream.DefaultHeartbeat, stop.Token);
    }
}
