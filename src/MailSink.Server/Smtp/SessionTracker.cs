namespace MailSink.Server.Smtp;

/// <summary>
/// Counts open SMTP sessions (the connection cap) and carries the drain signal: at shutdown, sessions
/// waiting between transactions are closed with <c>421</c>, sessions inside one are let finish.
/// </summary>
internal sealed class SessionTracker(int maxConnections)
{
    private readonly CancellationTokenSource _drain = new();
    private readonly object _gate = new();
    private TaskCompletionSource? _idle;
    private int _active;

    public int Active => Volatile.Read(ref _active);

    public CancellationToken Draining => _drain.Token;

    public bool TryAcquire()
    {
        lock (_gate)
        {
            if (_active >= maxConnections)
                return false;
            _active++;
            return true;
        }
    }

    public void Release()
    {
        lock (_gate)
        {
            _active--;
            if (_active == 0)
                _idle?.TrySetResult();
        }
    }

    public void BeginDrain() => _drain.Cancel();

    /// <summary>Completes when no session is open.</summary>
    public Task WhenIdleAsync()
    {
        lock (_gate)
        {
            if (_active == 0)
                return Task.CompletedTask;
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }
}
