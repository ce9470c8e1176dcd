using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MailSink.Storage;

/// <summary>Healthy once the database is open (it opens at start or the process stops).</summary>
internal sealed class StorageHealthCheck(MessageRepository repository) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(HealthCheckResult.Healthy($"open at {repository.FilePath}"));
}
