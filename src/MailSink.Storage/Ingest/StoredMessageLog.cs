using Microsoft.Extensions.Logging;

namespace MailSink.Storage.Ingest;

/// <summary>
/// The log's line for each stored message, written for a person watching the console: every message while
/// mail comes at up to <see cref="PerSecond"/> a second, and beyond that one line a second counting the rest
/// (each of which is still logged at Debug). A line for every message cost 6-9% of the rate and 12-17% of
/// the CPU a message under load (docs/performance.md), which a test suite sending thousands does not need.
/// </summary>
internal sealed class StoredMessageLog : IDisposable
{
    /// <summary>Messages a second logged one by one at Information.</summary>
    internal const int PerSecond = 10;

    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ITimer _flush;
    private readonly Lock _lock = new();
    private long _windowStart;
    private int _inWindow;
    private int _unlogged;

    public StoredMessageLog(ILogger logger, TimeProvider time)
    {
        _logger = logger;
        _time = time;
        _windowStart = time.GetTimestamp();
        _flush = time.CreateTimer(_ => Flush(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Logs one stored message: at Information within the second's allowance, else at Debug and counted.</summary>
    public void Stored(StoredMessage message, string sender)
    {
        bool individually;
        var summed = 0;
        lock (_lock)
        {
            var elapsed = _time.GetElapsedTime(_windowStart);
            if (elapsed >= Second)
            {
                summed = StartSecond();
                elapsed = TimeSpan.Zero;
            }

            individually = ++_inWindow <= PerSecond;
            if (!individually && _unlogged++ == 0)
                _flush.Change(Second - elapsed, Timeout.InfiniteTimeSpan); // the count comes when the second ends, even if mail stops
        }

        if (summed > 0)
            Log.MessagesStoredSummary(_logger, summed, PerSecond);
        Log.MessageStored(_logger, individually ? LogLevel.Information : LogLevel.Debug, message.Id, message.Inbox, message.Size, sender);
    }

    /// <summary>The timer at the end of a second in which messages went uncounted: their count, and a new second.</summary>
    private void Flush()
    {
        int summed;
        lock (_lock)
            summed = _unlogged > 0 ? StartSecond() : 0;
        if (summed > 0)
            Log.MessagesStoredSummary(_logger, summed, PerSecond);
    }

    /// <summary>Starts a new second and returns how many messages of the last were not logged one by one. Under <see cref="_lock"/>.</summary>
    private int StartSecond()
    {
        var summed = _unlogged;
        _unlogged = 0;
        _inWindow = 0;
        _windowStart = _time.GetTimestamp();
        return summed;
    }

    public void Dispose()
    {
        _flush.Dispose();
        Flush();
    }
}
