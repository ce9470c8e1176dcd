namespace MailSink.Api;

/// <summary>
/// HEAD wherever GET is answered (RFC 9110 section 9.1: every general-purpose server supports both). A HEAD is
/// a GET without its body, which is what <c>curl -I</c>, link checkers and load balancers send. Minimal APIs map
/// GET alone. Naming HEAD on every route would list each operation twice in the OpenAPI description, under
/// one operation id. So a HEAD request is routed as a GET, and is a HEAD again before its endpoint runs.
/// Kestrel still knows the request's method: it sends the status and headers and drops the body.
/// </summary>
internal static class HeadRequests
{
    private static readonly object RoutedAsGet = new();

    /// <summary>Routing, with HEAD requests routed as GET. Takes the place of the routing the host would add first.</summary>
    public static WebApplication UseRoutingWithHead(this WebApplication app)
    {
        app.Use((context, next) =>
        {
            if (HttpMethods.IsHead(context.Request.Method))
            {
                context.Request.Method = HttpMethods.Get;
                context.Items[RoutedAsGet] = true;
            }

            return next(context);
        });
        app.UseRouting();
        app.Use((context, next) =>
        {
            if (context.Items.Remove(RoutedAsGet))
                context.Request.Method = HttpMethods.Head;
            return next(context);
        });
        return app;
    }
}
