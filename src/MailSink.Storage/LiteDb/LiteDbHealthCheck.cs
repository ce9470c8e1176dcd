using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MailSink.Storage.LiteDb;

/// <summary>Healthy while the database answers a query: a store that has failed is not reported as fine.</summary>
internal sealed class LiteDbHealthCheck(LiteDbStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            store.Probe();
            return Task.FromResult(HealthCheckResult.Healthy($"LiteDB open at {store.FilePath}"));
        }
        catch (StorageUnavailableException ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"storage failing: {ex.Message}"));
        }
    }
}
