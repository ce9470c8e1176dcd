using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace MailSink.Api;

/// <summary>
/// A request to <c>/api</c> that carries a body must say it is JSON (<c>application/json</c> or an
/// <c>application/…+json</c> type, any parameters); anything else is a 415. Without an API key, any web page
/// can make a browser send a cross-site "simple" request (no Content-Type, text/plain, a form) that runs
/// although the page cannot read the answer: a probe created inboxes and ran searches that way. A browser
/// sends a JSON type cross-site only after a CORS preflight, which MailSink never answers with consent.
/// Routing alone refused only declared non-JSON types, and only on endpoints that declare a body.
/// Requests without a body (a wait for any message, deletes) need no Content-Type; an upload sends a message.
/// </summary>
internal sealed class JsonBodyMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context)
    {
        if (!HasBody(context) || IsJson(context.Request.ContentType) || IsUpload(context.Request))
            return next(context);
        return ApiServiceCollectionExtensions.WriteUnsupportedMediaTypeAsync(context.Response);
    }

    /// <summary>A Content-Length over 0, or no length and a body to come (chunked in HTTP/1.1, a data frame in HTTP/2).</summary>
    private static bool HasBody(HttpContext context) =>
        context.Request.ContentLength is { } length
            ? length > 0
            : context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? context.Request.Headers.TransferEncoding.Count > 0;

    /// <summary>
    /// The upload call takes a raw message as <c>message/rfc822</c> (or <c>application/octet-stream</c>): neither
    /// is a type a browser may send cross-site without a preflight, so the reasoning above holds for them too.
    /// </summary>
    private static bool IsUpload(HttpRequest request) =>
        request.Path.Equals("/api/messages/raw", StringComparison.OrdinalIgnoreCase)
        && MediaTypeHeaderValue.TryParse(request.ContentType, out var media)
        && (media.MediaType.Equals("message/rfc822", StringComparison.OrdinalIgnoreCase) || media.MediaType.Equals("application/octet-stream", StringComparison.OrdinalIgnoreCase));

    internal static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.Type.Equals("application", StringComparison.OrdinalIgnoreCase)
        && (media.SubType.Equals("json", StringComparison.OrdinalIgnoreCase) || media.Suffix.Equals("json", StringComparison.OrdinalIgnoreCase));
}
