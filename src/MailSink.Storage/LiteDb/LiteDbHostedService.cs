using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailSink.Storage.LiteDb;

/// <summary>
/// Takes and opens the data file at start (so a file in use or a bad path stops the process before any
/// port is bound) and, at stop, commits what is still queued. Registered before the SMTP service, so it
/// starts first and stops after SMTP has drained.
/// </summary>
internal sealed class LiteDbHostedService(LiteDbStore store, LiteDbWriter writer, ILogger<LiteDbHostedService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        store.Open();
        writer.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await writer.StopAsync();
        store.Dispose();
        Log.StorageClosed(logger);
    }
}
