using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailSink.Storage;

/// <summary>
/// Opens the database at start (so a bad path stops the process at once) and, at stop, commits what is
/// still queued. Registered before the SMTP service, so it stops after SMTP has drained.
/// </summary>
internal sealed class StorageHostedService(MessageRepository repository, MessageWriter writer, ILogger<StorageHostedService> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = repository.FilePath;
        writer.Start();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await writer.StopAsync();
        Log.StorageClosed(logger);
    }
}
