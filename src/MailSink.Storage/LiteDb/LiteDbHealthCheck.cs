using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MailSink.Storage.LiteDb;

/// <summary>
/// Healthy while the database answers a query: a store that has failed is not reported as fine. Degraded
/// while the disk is under the free-space floor: reads and deletes work, new mail gets 452.
/// </summary>
internal sealed class LiteDbHealthCheck(LiteDbStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            store.Probe();
        }
        catch (StorageUnavailableException ex)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy($"storage failing: {ex.Message}"));
        }

        return Task.FromResult(store.Space.Low
            ? HealthCheckResult.Degraded($"LiteDB open at {store.FilePath}; {store.RefuseMail(0)}")
            : HealthCheckResult.Healthy($"LiteDB open at {store.FilePath}"));
    }
}
