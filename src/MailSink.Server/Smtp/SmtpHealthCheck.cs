using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MailSink.Server.Smtp;

/// <summary>Healthy while every SMTP listener is bound and accepting; unhealthy before start and while draining.</summary>
internal sealed class SmtpHealthCheck(SmtpListeners listeners) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!listeners.IsAccepting)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(
                listeners.Bound.Count == 0 ? "SMTP listeners are not bound yet" : "draining: no new SMTP sessions"));
        }

        var ports = string.Join(", ", listeners.Bound.Select(b => $"{b.EndPoint.Port} ({b.Options.Tls}, AUTH {b.Options.Auth})"));
        return Task.FromResult(HealthCheckResult.Healthy($"listening on {ports}; {listeners.Tracker.Active} sessions open"));
    }
}
