using System.Diagnostics.Metrics;
using MailSink.Api.Analysis;
using MailSink.Api.Analysis.Deliverability;
using MailSink.Api.Chaos;
using MailSink.Api.Outgoing;
using MailSink.Api.Webhooks;
using MailSink.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace MailSink.Api;

public static class ApiServiceCollectionExtensions
{
    /// <summary>The HTTP side's services. The endpoints themselves are mapped by <see cref="MapMailSinkApi"/>.</summary>
    public static IServiceCollection AddMailSinkApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ApiOptions>, ApiOptionsValidator>();
        services.AddSingleton<ApiKey>();
        services.AddHealthChecks();
        services.AddOpenApi();
        services.TryAddSingleton<IInboxPasswords, NoInboxPasswords>();
        services.AddOptions<RelayOptions>().BindConfiguration(RelayOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RelayOptions>, RelayOptionsValidator>();
        services.AddSingleton<MessageDelivery>();
        services.AddOptions<ChaosOptions>().BindConfiguration(ChaosOptions.Section);
        services.AddSingleton<ChaosRules>();
        services.AddOptions<SpamAssassinOptions>().BindConfiguration(SpamAssassinOptions.Section);
        services.AddSingleton<SpamAssassinClient>();
        services.AddOptions<LinkCheckOptions>().BindConfiguration(LinkCheckOptions.Section);
        services.AddSingleton<LinkChecker>();
        services.AddOptions<DeliverabilityOptions>().BindConfiguration(DeliverabilityOptions.Section)
            .Validate(o => o.Servers() is not null,
                $"{DeliverabilityOptions.Section}:DnsServers must be IP addresses with an optional port, all with the same port, such as 10.0.0.2 or 127.0.0.1:5353.")
            .Validate(o => o.DnsTimeout > TimeSpan.Zero, $"{DeliverabilityOptions.Section}:DnsTimeout must be more than 00:00:00.")
            .ValidateOnStart();
        services.AddSingleton<AnalysisDns>();
        services.AddSingleton<AuthenticationChecks>();
        services.AddSingleton<DeliverabilityReports>();
        services.AddOptions<PreviewOptions>().BindConfiguration(PreviewOptions.Section);
        services.AddSingleton<Previews>();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();
        services.AddSingleton<WebhookSender>();
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.Section);
        if (configuration.GetValue($"{MetricsOptions.Section}:{nameof(MetricsOptions.Enabled)}", true))
        {
            services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService("mailsink")).WithMetrics(metrics => metrics
                .AddMeter(MailSinkMetrics.MeterName, "Microsoft.AspNetCore.Hosting")
                .Deferred((provider, builder) => builder.AddView(View(provider.GetRequiredService<IMeterFactory>())))
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        }

        services.AddHostedService(sp => sp.GetRequiredService<WebhookSender>());
        services.AddMailSinkUi();
        return services;
    }

    /// <summary>
    /// <c>/api/...</c> (Mailosaur-shaped, behind the API key when one is set), <c>/health</c> and
    /// <c>/openapi/v1.json</c>; every request, the UI's included, first passes the Host check.
    /// </summary>
    public static WebApplication MapMailSinkApi(this WebApplication app)
    {
        app.UseExceptionHandler(error => error.Run(WriteUnexpectedErrorAsync));
        app.UseMiddleware<HostCheckMiddleware>();
        app.UseStatusCodePages(WriteStatusBodyAsync);
        app.UseRoutingWithHead();
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/api"), api => api.UseMiddleware<ApiKeyMiddleware>().UseMiddleware<JsonBodyMiddleware>().UseUnsupportedApi());

        var group = app.MapGroup("/api");
        group.AddEndpointFilterFactory(GuidIds.Filter);
        group.MapMessagesApi();
        group.MapComposeApi();
        group.MapServersApi();
        group.MapFilesApi();
        group.MapDevicesApi();
        group.MapUsageApi();
        group.MapChaosApi();
        group.MapAnalysisApi();
        group.MapPreviewsApi();
        group.MapGet("/webhooks", (WebhookSender webhooks) => TypedResults.Ok(new ListResultDto<WebhookStatusDto>(webhooks.Status())))
            .WithTags("Webhooks").WithName("GetWebhooks").WithSummary("Each webhook endpoint with its queue and delivery counts.");
        app.MapMailSinkUi();

        if (app.Configuration.GetValue($"{MetricsOptions.Section}:{nameof(MetricsOptions.Enabled)}", true))
        {
            // Behind the API key (when one is set) unless MailSink:Metrics:AllowAnonymous says otherwise.
            if (!app.Configuration.GetValue<bool>($"{MetricsOptions.Section}:{nameof(MetricsOptions.AllowAnonymous)}"))
                app.UseWhen(c => c.Request.Path.StartsWithSegments("/metrics"), metrics => metrics.UseMiddleware<ApiKeyMiddleware>());
            app.MapPrometheusScrapingEndpoint("/metrics").WithMetadata(ReadOnly);
        }

        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthResponseWriter.WriteAsync }).WithMetadata(ReadOnly);
        app.MapOpenApi();
        return app;
    }

    private static MeterProviderBuilder Deferred(this MeterProviderBuilder builder, Action<IServiceProvider, MeterProviderBuilder> configure) =>
        builder is IDeferredMeterProviderBuilder deferred ? deferred.Configure(configure) : throw new InvalidOperationException("The metrics builder cannot reach the host's services.");

    /// <summary>
    /// What /metrics shows of an instrument: only this host's (a meter made by another host's factory, in
    /// the same process, as in tests, has the same name and would be counted too), and of ASP.NET Core's,
    /// the request duration (route, method, status) under MailSink's prefix.
    /// </summary>
    private static Func<Instrument, MetricStreamConfiguration?> View(IMeterFactory mine) => instrument =>
        instrument.Meter.Scope is IMeterFactory scope && !ReferenceEquals(scope, mine) ? MetricStreamConfiguration.Drop
        : instrument.Meter.Name != "Microsoft.AspNetCore.Hosting" ? null
        : instrument.Name == "http.server.request.duration" ? new MetricStreamConfiguration { Name = "mailsink.http.server.request.duration" }
        : MetricStreamConfiguration.Drop;

    /// <summary>Health and metrics are read with GET (or HEAD); any other method is a 405, not the page (they answered every method, FOO included).</summary>
    private static readonly HttpMethodMetadata ReadOnly = new([HttpMethods.Get, HttpMethods.Head]);

    /// <summary>
    /// Routing refuses some requests to <c>/api</c> with an empty body; two get the documented error shape. A
    /// body sent as something other than JSON (curl's -d sends a form type) is a 415 naming Content-Type. A
    /// method the path does not take is a 405 naming the ones it does, as in <c>Allow</c>. Other empty statuses
    /// (401, 404) stay empty, as Mailosaur's clients expect.
    /// </summary>
    private static Task WriteStatusBodyAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        if (!http.Request.Path.StartsWithSegments("/api"))
            return Task.CompletedTask;
        return http.Response.StatusCode switch
        {
            StatusCodes.Status415UnsupportedMediaType => WriteUnsupportedMediaTypeAsync(http.Response),
            StatusCodes.Status405MethodNotAllowed => WriteMethodNotAllowedAsync(http),
            _ => Task.CompletedTask,
        };
    }

    /// <summary>A 405 naming the methods the path takes: routing's <c>Allow</c>, and HEAD wherever GET is (HeadRequests).</summary>
    private static Task WriteMethodNotAllowedAsync(HttpContext http)
    {
        var response = http.Response;
        var allow = response.Headers.Allow.ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToList();
        if (allow.Contains(HttpMethods.Get) && !allow.Contains(HttpMethods.Head))
            allow.Insert(allow.IndexOf(HttpMethods.Get) + 1, HttpMethods.Head);
        response.Headers.Allow = string.Join(", ", allow);
        return response.WriteAsJsonAsync(ApiErrors.Body(
            "ValidationError", "method", $"{http.Request.Method} {http.Request.Path} is not served: that path takes {response.Headers.Allow}."));
    }

    /// <summary>A 415 naming Content-Type, in Mailosaur's error shape (routing's and <see cref="JsonBodyMiddleware"/>'s).</summary>
    internal static Task WriteUnsupportedMediaTypeAsync(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
        return response.WriteAsJsonAsync(ApiErrors.Body("ValidationError", "Content-Type", "Send the request body as JSON, with Content-Type: application/json."));
    }

    /// <summary>An unexpected fault is a short JSON error: never a stack trace.</summary>
    private static Task WriteUnexpectedErrorAsync(HttpContext context)
    {
        var fault = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var status = fault is StorageUnavailableException or BadHttpRequestException
            ? (fault as BadHttpRequestException)?.StatusCode ?? StatusCodes.Status503ServiceUnavailable
            : StatusCodes.Status500InternalServerError;
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(ApiErrors.Body("ServerError", "request", "The request could not be completed; the server log has the cause."));
    }

    private sealed class NoInboxPasswords : IInboxPasswords
    {
        public string PasswordFor(string inboxId) => "";
    }
}
