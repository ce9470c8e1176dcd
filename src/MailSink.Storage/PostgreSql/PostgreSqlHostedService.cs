using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailSink.Storage.PostgreSql;

/// <summary>
/// Brings the schema up to date at start (a database that cannot be reached stops the process with one
/// line, before any port is bound), starts the arrival listener from the clock's time and the writer; at
/// stop, commits what is still queued (its arrivals announced), then stops listening. Registered before
/// every other hosted service, so it starts first and stops last.
/// </summary>
internal sealed class PostgreSqlHostedService(
    PostgreSqlStore store, PostgreSqlWriter writer, PostgreSqlListener listener, ILogger<PostgreSqlHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        listener.StartFrom(await store.OpenAsync(cancellationToken));
        await listener.StartAsync(cancellationToken);
        writer.Start();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await writer.StopAsync();
        await listener.StopAsync(cancellationToken);
        await store.DisposeAsync();
        Log.StorageClosed(logger);
    }
}
