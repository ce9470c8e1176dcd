namespace MailSink.Server.Smtp;

/// <summary>
/// Turns for ingesting large messages, one per core. Socket completions run inline (Program), so a
/// session's code runs on a socket event thread that every other session's reads wait on; parsing and
/// compressing a message of megabytes takes tens of milliseconds there. So large messages are ingested
/// on the thread pool, a bounded number at a time, which also bounds the memory of messages being stored
/// by the number of turns rather than the number of sessions (ten 25 MB messages ingested all at once
/// peaked at 690-720 MB RSS; one at a time on the event thread, at 500-670 MB). Smaller ones stay on the
/// event thread, without another hand-off.
/// </summary>
internal sealed class LargeIngestTurns : IDisposable
{
    /// <summary>A message over this many bytes (or one that waited in a file) takes a turn.</summary>
    public const int MessageBytes = 1024 * 1024;

    private readonly SemaphoreSlim _turns;

    public LargeIngestTurns()
        : this(Environment.ProcessorCount)
    {
    }

    public LargeIngestTurns(int turns) => _turns = new SemaphoreSlim(turns);

    /// <summary>Waits for a turn; disposing the result gives it back.</summary>
    public async ValueTask<Turn> TakeAsync(CancellationToken cancellationToken)
    {
        await _turns.WaitAsync(cancellationToken);
        return new Turn(_turns);
    }

    public void Dispose() => _turns.Dispose();

    public readonly struct Turn(SemaphoreSlim turns) : IDisposable
    {
        public void Dispose() => turns.Release();
    }
}
