using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MailSink.Api;

/// <summary>
/// <c>/health</c> as JSON: overall status and each check's (SMTP listeners, storage). It needs no key, for
/// probes; but the checks' descriptions name the database's absolute path and the open sessions, so with
/// an API key set they are shown only to a caller that sends it (<see cref="ApiKey"/>).
/// </summary>
internal static class HealthResponseWriter
{

    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var details = context.RequestServices.GetRequiredService<ApiKey>().Allows(context.Request);
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = Status(report.Status),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => details
                    ? (object)new { status = Status(e.Value.Status), description = e.Value.Description }
                    : new { status = Status(e.Value.Status) }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, ApiJson.Web));
    }

    private static string Status(HealthStatus status) => status.ToString().ToLowerInvariant();
}
