using System.Runtime;
using Microsoft.Extensions.Logging;

namespace MailSink.Storage.LiteDb;

/// <summary>
/// Gives memory back after a burst: once the database has not been used for a minute, it is closed and
/// opened again (LiteDB 5 keeps every page it has touched until then) and the garbage collector is asked
/// to compact and return the freed memory to the system. A shared trap idles most of the day; without
/// this it stayed at the size of its busiest minute (issue 5's soak: +129 MB over the warm baseline).
/// </summary>
internal sealed class IdleReleaseHostedService(LiteDbStore repository, TimeProvider time, ILogger<IdleReleaseHostedService> logger)
    : HostedLoop
{
    internal static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan CheckEvery = TimeSpan.FromSeconds(10);

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckEvery, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    if (repository.ReleaseIfIdle(IdleAfter))
                        ReturnMemory();
                }
                catch (Exception ex) when (ex is LiteDB.LiteException or IOException or UnauthorizedAccessException)
                {
                    Log.IdleReleaseFailed(logger, ex); // the next use of the database opens it again
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    /// <summary>A full, compacting collection (large objects too) that decommits what it frees.</summary>
    internal static void ReturnMemory()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }
}
