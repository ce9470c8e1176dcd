using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailSink.Storage.LiteDb;

/// <summary>
/// The LiteDB engine's part in the host's start and stop. Start-up goes in three steps so that a start that
/// fails leaves the database untouched and says nothing misleading: the data file is taken (its lock) before
/// anything else, SMTP binds its ports next (its own starting step), the database is opened only then, and
/// "Storage open" is said once everything, HTTP included, has started. At stop it commits what is still
/// queued; registered before the SMTP service, it stops after SMTP has drained.
/// </summary>
internal sealed class LiteDbHostedService(LiteDbStore store, LiteDbWriter writer, ILogger<LiteDbHostedService> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        store.TakeFile();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        store.Open();
        writer.Start();
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        store.LogOpened();
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await writer.StopAsync();
        store.Dispose();
        Log.StorageClosed(logger);
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
