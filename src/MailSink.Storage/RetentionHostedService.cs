using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailSink.Storage;

/// <summary>
/// Keeps the store within <c>MaxMessagesPerInbox</c>, <c>MaxAge</c> and <c>MaxTotalBytes</c>, oldest
/// first, in batches of short transactions between which ingest proceeds. Runs every
/// <c>RetentionInterval</c> and soon after a write (the writer nudges it).
/// </summary>
internal sealed class RetentionHostedService(
    MessageRepository repository,
    ArrivalFeed feed,
    IOptions<StorageOptions> options,
    TimeProvider time,
    ILogger<RetentionHostedService> logger) : HostedLoop
{
    private const int Batch = 500;
    private readonly SemaphoreSlim _nudge = new(0, 1);
    private long _lastCheckpoint;

    private IRetentionLimits Limits => options.Value;

    protected override bool Enabled => Limits.MaxMessagesPerInbox > 0 || Limits.MaxAge > TimeSpan.Zero || Limits.MaxTotalBytes > 0;

    /// <summary>Asks for a pass soon; cheap and non-blocking (called on the writer thread for each arrival).</summary>
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
                var removed = RunOnce();
                if (removed > 0)
                    Log.RetentionRemoved(logger, removed, repository.TotalRawBytes);
                await _nudge.WaitAsync(Limits.RetentionInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception ex) when (ex is LiteDB.LiteException or IOException or InvalidOperationException)
            {
                Log.RetentionFailed(logger, ex);
                await Task.Delay(Limits.RetentionInterval, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>One pass over every limit; returns how many messages were removed.</summary>
    internal int RunOnce()
    {
        var removed = 0;
        if (Limits.MaxMessagesPerInbox > 0)
        {
            foreach (var inbox in repository.InboxesOver(Limits.MaxMessagesPerInbox))
            {
                int n;
                while ((n = repository.TrimInbox(inbox, Limits.MaxMessagesPerInbox, Batch)) > 0)
                    removed += n;
            }
        }

        if (Limits.MaxAge > TimeSpan.Zero)
        {
            var before = time.GetUtcNow() - Limits.MaxAge;
            int n;
            while ((n = repository.DeleteOlderThan(before, Batch)) > 0)
                removed += n;
        }

        if (Limits.MaxTotalBytes > 0)
        {
            // Small steps: a message can be large, and only the excess should go.
            while (repository.TotalRawBytes > Limits.MaxTotalBytes && repository.DeleteOldest(10) is var n and > 0)
                removed += n;
        }

        // Fold the log into the data file now and then, so that freed pages are reused and the log stays small.
        if (removed > 0 && time.GetTimestamp() - _lastCheckpoint > time.TimestampFrequency * 10)
        {
            repository.Checkpoint();
            _lastCheckpoint = time.GetTimestamp();
        }

        return removed;
    }
}
