using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Threading.Channels;
using MailSink.Storage;
using MailSink.Storage.Ingest;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailSink.Api.Webhooks;

/// <summary>
/// Announces every message this process stores to each configured endpoint: its summary JSON (as
/// listings give it) in a POST, signed when the endpoint has a secret, retried with a doubling wait.
/// The commit only puts the message in the endpoint's bounded queue (full: dropped and counted), and one
/// worker per endpoint delivers in order, so a slow or dead receiver never slows SMTP. On several nodes
/// each message is announced once, by the node that stored it.
/// </summary>
public sealed partial class WebhookSender : IHostedService, IDisposable
{
    private readonly WebhookOptions _options;
    private readonly ArrivalFeed _feed;
    private readonly ILogger<WebhookSender> _logger;
    private readonly HttpClient _http;
    private readonly List<Endpoint> _endpoints;
    private readonly CancellationTokenSource _stopping = new();
    private IDisposable? _subscription;

    private readonly MailSinkMetrics? _metrics;

    public WebhookSender(IOptions<WebhookOptions> options, ArrivalFeed feed, ILogger<WebhookSender> logger, MailSinkMetrics? metrics = null)
    {
        _metrics = metrics;
        _options = options.Value;
        _feed = feed;
        _logger = logger;
        _http = new HttpClient { Timeout = _options.Timeout };
        _http.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("MailSink", "1"));
        _endpoints = [.. _options.Endpoints.Select(e => new Endpoint(e, _options.MaxQueued))];
    }

    /// <summary>Each endpoint's counts, for <c>GET /api/webhooks</c>.</summary>
    public IReadOnlyList<WebhookStatusDto> Status() =>
        [.. _endpoints.Select(e => new WebhookStatusDto(e.Config.Url, e.Config.Inbox, e.Config.Secret is { Length: > 0 }, e.Queue.Reader.Count,
            Interlocked.Read(ref e.Delivered), Interlocked.Read(ref e.Retried), Interlocked.Read(ref e.Failed), Interlocked.Read(ref e.Dropped)))];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (_endpoints.Count == 0)
            return Task.CompletedTask;
        foreach (var endpoint in _endpoints)
            endpoint.Worker = Task.Run(() => DeliverAllAsync(endpoint, _stopping.Token), CancellationToken.None); // stopped by _stopping
        _subscription = _feed.SubscribeLocal(OnStored);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        await _stopping.CancelAsync();
        foreach (var endpoint in _endpoints)
        {
            endpoint.Queue.Writer.TryComplete();
            if (endpoint.Worker is { } worker)
                await worker.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        _stopping.Dispose();
    }

    /// <summary>Runs in the writer loop right after the commit: a queue write per endpoint, nothing more.</summary>
    private void OnStored(StoredMessage message)
    {
        foreach (var endpoint in _endpoints)
        {
            if (endpoint.Inbox is { } inbox && !string.Equals(inbox, message.Inbox, StringComparison.Ordinal))
                continue;
            if (!endpoint.Queue.Writer.TryWrite(message))
            {
                Count("dropped");
                if (Interlocked.Increment(ref endpoint.Dropped) is var dropped && (dropped & (dropped - 1)) == 0)
                    Log.Dropped(_logger, endpoint.Config.Url, dropped, _options.MaxQueued); // the 1st, 2nd, 4th, 8th… drop
            }
        }
    }

    private async Task DeliverAllAsync(Endpoint endpoint, CancellationToken stopping)
    {
        try
        {
            await foreach (var message in endpoint.Queue.Reader.ReadAllAsync(stopping))
                await DeliverAsync(endpoint, message, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task DeliverAsync(Endpoint endpoint, StoredMessage message, CancellationToken stopping)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(message.ToSummaryDto(), ApiJson.Web);
        var delivery = Guid.NewGuid().ToString();
        var signature = endpoint.Config.Secret is { Length: > 0 } secret
            ? "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret), body))
            : null;
        var wait = _options.RetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            string problem;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, endpoint.Config.Url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                request.Headers.Add("X-MailSink-Event", "message.received");
                request.Headers.Add("X-MailSink-Delivery", delivery);
                request.Headers.Add("X-MailSink-Attempt", attempt.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (signature is not null)
                    request.Headers.Add("X-MailSink-Signature", signature);
                using var response = await _http.SendAsync(request, stopping);
                if (response.IsSuccessStatusCode)
                {
                    Interlocked.Increment(ref endpoint.Delivered);
                    Count("delivered");
                    return;
                }

                problem = $"HTTP {(int)response.StatusCode}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !stopping.IsCancellationRequested)
            {
                problem = ex is TaskCanceledException ? $"no answer within {_options.Timeout.TotalSeconds:0.#} s" : ex.Message;
            }

            if (attempt >= _options.MaxAttempts)
            {
                Interlocked.Increment(ref endpoint.Failed);
                Count("failed");
                Log.GaveUp(_logger, endpoint.Config.Url, message.Id, attempt, problem);
                return;
            }

            Interlocked.Increment(ref endpoint.Retried);
            Count("retried");
            Log.WillRetry(_logger, endpoint.Config.Url, message.Id, attempt, problem, wait.TotalSeconds);
            await Task.Delay(wait, stopping);
            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
        }
    }

    private void Count(string result) => _metrics?.WebhookDeliveries.Add(1, new KeyValuePair<string, object?>("result", result));

    private sealed class Endpoint(WebhookEndpoint config, int capacity)
    {
        public WebhookEndpoint Config { get; } = config;

        public string? Inbox { get; } = string.IsNullOrWhiteSpace(config.Inbox) ? null : InboxRouter.NormalizeInboxId(config.Inbox);

        public Channel<StoredMessage> Queue { get; } = Channel.CreateBounded<StoredMessage>(
            new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait }); // TryWrite then says false when full (DropWrite would say true)

        public Task? Worker { get; set; }

        public long Delivered;
        public long Retried;
        public long Failed;
        public long Dropped;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 420, Level = LogLevel.Warning, Message = "Webhook {Url}: message {MessageId} attempt {Attempt} failed ({Problem}); trying again in {Seconds} s")]
        public static partial void WillRetry(ILogger logger, string url, string messageId, int attempt, string problem, double seconds);

        [LoggerMessage(EventId = 421, Level = LogLevel.Error, Message = "Webhook {Url}: gave up on message {MessageId} after {Attempt} attempts ({Problem})")]
        public static partial void GaveUp(ILogger logger, string url, string messageId, int attempt, string problem);

        [LoggerMessage(EventId = 422, Level = LogLevel.Error, Message = "Webhook {Url}: its queue is full ({MaxQueued}); {Dropped} message(s) dropped so far")]
        public static partial void Dropped(ILogger logger, string url, long dropped, int maxQueued);
    }
}

/// <summary>One endpoint's delivery counts.</summary>
#pragma warning disable CA1720 // "signed" says whether POSTs carry a signature
public sealed record WebhookStatusDto(string Url, string? Inbox, bool Signed, int Queued, long Delivered, long Retried, long Failed, long Dropped);
#pragma warning restore CA1720
