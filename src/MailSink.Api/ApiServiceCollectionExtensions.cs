using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Api;

public static class ApiServiceCollectionExtensions
{
    /// <summary>The HTTP side's services. The endpoints themselves are mapped by <see cref="MapMailSinkApi"/>.</summary>
    public static IServiceCollection AddMailSinkApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddHealthChecks();
        services.AddProblemDetails();
        return services;
    }

    /// <summary><c>/api/...</c> (Mailosaur-shaped) and <c>/health</c>.</summary>
    public static IEndpointRouteBuilder MapMailSinkApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapMessagesApi();
        api.MapFilesApi();

        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = HealthResponseWriter.WriteAsync });
        return app;
    }
}
