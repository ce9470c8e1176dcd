using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MailSink.Storage;

/// <summary>Healthy while the database answers a query: a store that has failed is not reported as fine.</summary>
internal sealed class StorageHealthCheck(MessageRepository repository) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            repository.Probe();
            return Task.FromResult(HealthCheckResult.Healthy($"open at {repository.FilePath}"));
        }
        catch (Exception ex) when (ex is LiteDB.LiteException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"storage failing: {ex.Message}"));
        }
    }
}
