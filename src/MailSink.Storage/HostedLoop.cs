using Microsoft.Extensions.Hosting;

namespace MailSink.Storage;

/// <summary>
/// A loop that starts with the host and stops with it. Not a BackgroundService: when another service
/// failed to start, .NET 10 logged a BackgroundService's cancelled start as a critical error with a stack
/// trace, spoiling the one-line startup error.
/// </summary>
internal abstract class HostedLoop : IHostedService, IDisposable
{
    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
            _stopping.Dispose();
    }

    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;

    /// <summary>Whether the loop runs at all (read once, at start).</summary>
    protected virtual bool Enabled => true;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Enabled)
            _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>The loop; it ends when <paramref name="stoppingToken"/> is cancelled.</summary>
    protected abstract Task RunAsync(CancellationToken stoppingToken);
}
