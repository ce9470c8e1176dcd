using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MailSink.Storage.PostgreSql;

/// <summary>Healthy while PostgreSQL answers a query within <see cref="Patience"/>; otherwise Unhealthy, with a short reason.</summary>
internal sealed class PostgreSqlHealthCheck(PostgreSqlStore store) : IHealthCheck
{
    internal static readonly TimeSpan Patience = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = new CancellationTokenSource(Patience);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await store.ProbeAsync(linked.Token);
            return HealthCheckResult.Healthy($"PostgreSQL at {store.Where}");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL at {store.Where} did not answer within {Patience.TotalSeconds:0} s");
        }
        catch (StorageUnavailableException ex)
        {
            return HealthCheckResult.Unhealthy($"PostgreSQL at {store.Where} is unavailable: {(ex.InnerException ?? ex).Message}");
        }
    }
}
