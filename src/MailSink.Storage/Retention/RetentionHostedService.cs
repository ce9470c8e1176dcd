using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailSink.Storage.Retention;

/// <summary>
/// Keeps the store within <c>MaxMessagesPerInbox</c>, <c>MaxAge</c> and <c>MaxTotalBytes</c>, oldest first:
/// a pass runs every <c>RetentionInterval</c> and soon after arrivals (each one nudges it). The engine does
/// the removing, in short transactions between which mail goes on.
/// </summary>
internal sealed class RetentionHostedService(
    IRetentionStore store,
    ArrivalFeed feed,
    IOptions<StorageOptions> options,
    TimeProvider time,
    ILogger<RetentionHostedService> logger) : HostedLoop
{
    private readonly SemaphoreSlim _nudge = new(0, 1);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            _nudge.Dispose();
        base.Dispose(disposing);
    }

    private StorageOptions Limits => options.Value;

    protected override bool Enabled => Limits.MaxMessagesPerInbox > 0 || Limits.MaxAge > TimeSpan.Zero || Limits.MaxTotalBytes > 0;

    /// <summary>Asks for a pass soon; cheap and non-blocking (called right after commits, for each arrival).</summary>
    public void Nudge()
    {
        if (Enabled && _nudge.CurrentCount == 0)
        {
            try
            {
                _nudge.Release();
            }
            catch (SemaphoreFullException)
            {
                // a pass is already due
            }
        }
    }

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        using var arrivals = feed.Subscribe(null, _ => Nudge());
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
                await _nudge.WaitAsync(Limits.RetentionInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is StorageUnavailableException or IOException or InvalidOperationException)
            {
                Log.RetentionFailed(logger, ex);
                await Task.Delay(Limits.RetentionInterval, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>One pass over every limit; returns how many messages were removed.</summary>
    internal async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var removed = await store.ApplyRetentionAsync(Limits, time.GetUtcNow(), cancellationToken);
        if (removed > 0)
            Log.RetentionRemoved(logger, removed, await store.StoredBytesAsync(cancellationToken));
        return removed;
    }
}
