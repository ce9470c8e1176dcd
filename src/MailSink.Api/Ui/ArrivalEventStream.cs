using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using MailSink.Storage;

namespace MailSink.Api;

/// <summary>
/// One client's server-sent event stream. The arrival feed calls back on the storage writer thread, so
/// the callback only maps the message to its small summary and queues it without waiting: each client
/// has a bounded queue that drops its oldest entry when the client falls behind, and the client is then
/// told (an <c>overflow</c> event) to reload instead of trusting the stream. A comment line goes out when
/// nothing happened for <c>heartbeat</c>, so proxies and the browser see the connection alive.
/// </summary>
internal sealed class ArrivalEventStream
{
    public const int DefaultCapacity = 256;
    public static readonly TimeSpan DefaultHeartbeat = TimeSpan.FromSeconds(15);

    private static readonly byte[] Connected = Encoding.UTF8.GetBytes(": connected\nretry: 2000\n\n");
    private static readonly byte[] Heartbeat = Encoding.UTF8.GetBytes(": heartbeat\n\n");

    private readonly ArrivalFeed _feed;
    private readonly string? _inbox;
    private readonly JsonSerializerOptions _json;
    private readonly Channel<MessageSummaryDto> _queue;
    private int _dropped;

    public ArrivalEventStream(ArrivalFeed feed, string? inbox, int capacity, JsonSerializerOptions json)
    {
        _feed = feed;
        _inbox = inbox;
        _json = json;
        _queue = Channel.CreateBounded<MessageSummaryDto>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    /// <summary>A stream's status and headers: all that a HEAD request gets (its body would never end).</summary>
    public static void WriteHeaders(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    /// <summary>Writes the stream until <paramref name="cancellationToken"/> fires; unsubscribes on the way out.</summary>
    public async Task RunAsync(HttpResponse response, TimeSpan heartbeat, CancellationToken cancellationToken)
    {
        // Subscribed before the first byte goes out: a client that sees the stream open misses nothing after.
        using var subscription = _feed.Subscribe(_inbox, message => _queue.Writer.TryWrite(message.ToSummaryDto()));

        WriteHeaders(response);
        try
        {
            await response.Body.WriteAsync(Connected, cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
            while (true)
            {
                if (!await WaitForArrivalAsync(heartbeat, cancellationToken))
                {
                    await response.Body.WriteAsync(Heartbeat, cancellationToken);
                }
                else
                {
                    var dropped = Interlocked.Exchange(ref _dropped, 0);
                    if (dropped > 0)
                        await WriteEventAsync(response.Body, "overflow", null, $"{{\"dropped\":{dropped}}}", cancellationToken);
                    while (_queue.Reader.TryRead(out var summary))
                        await WriteEventAsync(response.Body, "message", summary.Id, JsonSerializer.Serialize(summary, _json), cancellationToken);
                }

                await response.Body.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client went away or the host is stopping: the normal end of a stream.
        }
    }

    /// <summary>True when something is queued; false when <paramref name="heartbeat"/> passed first.</summary>
    private async Task<bool> WaitForArrivalAsync(TimeSpan heartbeat, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(heartbeat);
        try
        {
            return await _queue.Reader.WaitToReadAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    private static async Task WriteEventAsync(Stream body, string type, string? id, string data, CancellationToken cancellationToken)
    {
        // JSON from the serializer is one line, so one data: line carries it.
        var text = id is null ? $"event: {type}\ndata: {data}\n\n" : $"id: {id}\nevent: {type}\ndata: {data}\n\n";
        await body.WriteAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
    }
}
