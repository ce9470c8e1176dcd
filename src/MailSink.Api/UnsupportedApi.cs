namespace MailSink.Api;

/// <summary>
/// Every other <c>/api</c> path: a 400 in Mailosaur's error shape naming what is not served and why, so a
/// client reports "… is not available in MailSink" instead of a bare 404 it would read as a wrong id. A
/// wrong id on a served call (<c>GET api/messages/{id}</c>) stays a 404.
/// </summary>
internal static class UnsupportedApi
{
    /// <summary>Mailosaur's calls that are not served, by their first path segment.</summary>
    private static readonly (string Segment, string Field, string Why)[] Known =
    [
        ("sms", "sms", "SMS is not available in MailSink: it receives email only."),
    ];

    /// <summary>
    /// A middleware, not a fallback endpoint: a fallback route takes part in endpoint selection and won over
    /// calls that declare a JSON body when a request has none (a wait for any message).
    /// </summary>
    public static IApplicationBuilder UseUnsupportedApi(this IApplicationBuilder api) =>
        api.Use((context, next) => context.GetEndpoint() is null ? Refuse(context.Request).ExecuteAsync(context) : next(context));

    private static IResult Refuse(HttpRequest request)
    {
        var path = (request.Path.Value ?? "")["/api".Length..].Trim('/');
        var first = path.Split('/')[0];
        foreach (var (segment, field, why) in Known)
        {
            if (segment.Equals(first, StringComparison.OrdinalIgnoreCase))
                return ApiErrors.BadRequest(field, why);
        }

        return ApiErrors.BadRequest("path", $"{request.Method} /api/{path} is not available in MailSink: it serves Mailosaur's servers, messages, files, analysis, devices and usage calls, and MailSink's own events, webhooks and chaos calls (see /openapi/v1.json).");
    }
}
