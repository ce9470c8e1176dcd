namespace MailSink.Api;

/// <summary>Guards <c>/api</c> with the API key when one is configured (<see cref="ApiKey"/>).</summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, ApiKey key)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (key.Allows(context.Request))
            return next(context);

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"MailSink\", charset=\"UTF-8\"";
        return Task.CompletedTask;
    }
}
