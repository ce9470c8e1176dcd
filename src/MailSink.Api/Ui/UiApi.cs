using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Api;

/// <summary>
/// The web UI: the page at <c>/</c> and its files under <c>/ui/</c>, served from the assembly, plus the
/// live arrival stream it listens to (<c>api/events</c>, behind the API key like the rest of <c>/api</c>).
/// The page itself holds no data and needs no key; everything it shows comes from <c>/api</c>.
/// </summary>
internal static class UiApi
{
    /// <summary>
    /// No inline script anywhere and script only from this origin. Inline styles and data:/remote images
    /// are allowed because the email preview is an <c>iframe srcdoc</c>, which inherits this policy: a
    /// mail's own <c>style</c> attributes must work, and its images load once the person asks. The frame
    /// narrows this with its own policy (no remote content until asked) and its sandbox (no script).
    /// <c>blob:</c> images are the previews the page fetched itself (with the API key) and shows.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: http: https:; " +
        "font-src 'self' data:; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>Registers what the UI needs (the embedded files, read once).</summary>
    public static IServiceCollection AddMailSinkUi(this IServiceCollection services) => services.AddSingleton<UiAssets>();

    /// <summary>Maps <c>/</c>, <c>/ui/{file}</c> and <c>api/events</c>.</summary>
    public static WebApplication MapMailSinkUi(this WebApplication app)
    {
        string[] getOrHead = [HttpMethods.Get, HttpMethods.Head];
        app.MapMethods("/", getOrHead, (HttpContext context, UiAssets assets) => Serve(context, assets.Index)).ExcludeFromDescription();
        app.MapMethods("/ui/{*path}", getOrHead, (HttpContext context, UiAssets assets, string path) =>
            assets.Find(path) is { } asset ? Serve(context, asset) : Results.NotFound()).ExcludeFromDescription();
        app.MapGroup("/api").MapEventsApi();
        return app;
    }

    private static IResult Serve(HttpContext context, UiAssets.Asset asset)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        // Small files, revalidated on every load: a new MailSink version shows at once.
        headers.CacheControl = "no-cache";
        headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch.Contains(asset.ETag))
            return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Content, asset.ContentType);
    }
}
