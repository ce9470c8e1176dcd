namespace MailSink.Storage;

/// <summary>
/// How many of a kind of log line may be written one by one in a second: the first <c>perSecond</c> are,
/// the rest are counted, and the count is handed to <c>summarize</c> once the second is over (with the next
/// line, or by a timer if none comes). For lines a busy or hostile client could repeat without end: stored
/// messages, refused connections.
/// </summary>
public sealed class LogAllowance : IDisposable
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private readonly int _perSecond;
    private readonly TimeProvider _time;
    private readonly Action<int> _summarize;
    private readonly ITimer _flush;
    private readonly Lock _lock = new();
    private long _windowStart;
    private int _inWindow;
    private int _counted;

    public LogAllowance(int perSecond, TimeProvider time, Action<int> summarize)
    {
        _perSecond = perSecond;
        _time = time;
        _summarize = summarize;
        _windowStart = time.GetTimestamp();
        _flush = time.CreateTimer(_ => Flush(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>
    /// True: write this line. False: it is counted instead. A count left from the last second is summarized
    /// first, so lines stay in order.
    /// </summary>
    public bool Take()
    {
        bool allowed;
        var summed = 0;
        lock (_lock)
        {
            var elapsed = _time.GetElapsedTime(_windowStart);
            if (elapsed >= Second)
            {
                summed = StartSecond();
                elapsed = TimeSpan.Zero;
            }

            allowed = ++_inWindow <= _perSecond;
            if (!allowed && _counted++ == 0)
                _flush.Change(Second - elapsed, Timeout.InfiniteTimeSpan); // the count comes when the second ends, even if nothing follows
        }

        if (summed > 0)
            _summarize(summed);
        return allowed;
    }

    /// <summary>The timer at the end of a second with lines counted: their count, and a new second.</summary>
    private void Flush()
    {
        int summed;
        lock (_lock)
            summed = _counted > 0 ? StartSecond() : 0;
        if (summed > 0)
            _summarize(summed);
    }

    /// <summary>Starts a new second and returns how many lines of the last were counted. Under <see cref="_lock"/>.</summary>
    private int StartSecond()
    {
        var summed = _counted;
        _counted = 0;
        _inWindow = 0;
        _windowStart = _time.GetTimestamp();
        return summed;
    }

    /// <summary>Stops the timer and summarizes what is still counted.</summary>
    public void Dispose()
    {
        _flush.Dispose();
        Flush();
    }
}
