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
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebhookOptions>, WebhookOptionsValidator>();
        services.AddSingleton<WebhookSender>();
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
        app.UseStatusCodePages(WriteUnsupportedMediaTypeAsync);
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/api"), api => api.UseMiddleware<ApiKeyMiddleware>().UseMiddleware<JsonBodyMiddleware>().UseUnsupportedApi());

        var group = app.MapGroup("/api");
        group.MapMessagesApi();
        group.MapComposeApi();
        group.MapServersApi();
        group.MapFilesApi();
        group.MapDevicesApi();
        group.MapUsageApi();
        group.MapChaosApi();
        group.MapGet("/webhooks", (WebhookSender webhooks) => TypedResults.Ok(new ListResultDto<WebhookStatusDto>(webhooks.Status())))
            .WithTags("Webhooks").WithName("GetWebhooks").WithSummary("Each webhook endpoint with its queue and delivery counts.");
        app.MapMailSinkUi();

        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthResponseWriter.WriteAsync });
        app.MapOpenApi();
        return app;
    }

    /// <summary>
    /// A body sent as something other than JSON (curl's -d sends a form type) is refused by routing with an
    /// empty 415; give it the documented error shape too. Other empty statuses (401, 404) stay empty, as
    /// Mailosaur's clients expect.
    /// </summary>
    private static Task WriteUnsupportedMediaTypeAsync(StatusCodeContext context)
    {
        var response = context.HttpContext.Response;
        if (response.StatusCode != StatusCodes.Status415UnsupportedMediaType || !context.HttpContext.Request.Path.StartsWithSegments("/api"))
            return Task.CompletedTask;
        return WriteUnsupportedMediaTypeAsync(response);
    }

    /// <summary>A 415 naming Content-Type, in Mailosaur's error shape (routing's and <see cref="JsonBodyMiddleware"/>'s).</summary>
    internal static Task WriteUnsupportedMediaTypeAsync(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status415UnsupportedMediaType;
        return response.WriteAsJsonAsync(new
        {
            type = "ValidationError",
            errors = new[] { new { field = "Content-Type", detail = new[] { new { description = "Send the request body as JSON, with Content-Type: application/json." } } } },
        });
    }

    /// <summary>An unexpected fault is a short JSON error: never a stack trace.</summary>
    private static Task WriteUnexpectedErrorAsync(HttpContext context)
    {
        var fault = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var status = fault is StorageUnavailableException or BadHttpRequestException
            ? (fault as BadHttpRequestException)?.StatusCode ?? StatusCodes.Status503ServiceUnavailable
            : StatusCodes.Status500InternalServerError;
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new
        {
            type = "ServerError",
            errors = new[] { new { field = "request", detail = new[] { new { description = "The request could not be completed; the server log has the cause." } } } },
        });
    }

    private sealed class NoInboxPasswords : IInboxPasswords
    {
        public string PasswordFor(string inboxId) => "";
    }
}
