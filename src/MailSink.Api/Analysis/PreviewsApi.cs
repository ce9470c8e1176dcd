using System.Text.Json;
using MailSink.Storage;

namespace MailSink.Api.Analysis;

/// <summary>
/// Mailosaur's preview calls, served by MailSink's own profiles: <c>GET api/screenshots/clients</c>,
/// <c>POST api/messages/{id}/screenshots</c> and <c>GET api/files/screenshots/{id}</c> (202 until ready).
/// </summary>
internal static class PreviewsApi
{
    /// <summary>Poll pacing for a preview still rendering (Mailosaur's clients read it like a search's).</summary>
    private const string PollDelays = "250,500,1000";

    public static RouteGroupBuilder MapPreviewsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/screenshots/clients", () => TypedResults.Ok(new ListResultDto<EmailClientDto>([.. Previews.Profiles.Select(p => new EmailClientDto(p.Label, p.Name))])))
            .WithTags("Previews").WithName("ListEmailClients").WithSummary("MailSink's rendering profiles (headless Chromium at a size, light or dark, images on or off).");
        api.MapPost("/messages/{id}/screenshots", Generate).WithTags("Previews").WithName("GeneratePreviews")
            .WithSummary("Starts a preview per profile named in {emailClients:[…]}; answers their ids at once.")
            .Produces<ListResultDto<PreviewDto>>().Produces(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status404NotFound);
        api.MapGet("/files/screenshots/{id}", File).WithTags("Previews").WithName("GetPreview")
            .WithSummary("The preview's PNG; 202 with x-ms-delay while it renders.");
        return api;
    }

    private static async Task<IResult> Generate(Previews previews, IMessageRepository messages, HttpRequest request, string id)
    {
        var (body, error) = await RequestBodies.ReadObjectAsync(request, "emailClients", required: true);
        if (error is not null)
            return error;
        if (!RequestBodies.TryProperty(body!.Value, "emailClients", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0
            || list.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String))
            return ApiErrors.BadRequest("emailClients", $"emailClients must name one or more of: {Known()}.");
        var names = list.EnumerateArray().Select(c => c.GetString()!).ToList();
        var unknown = names.FirstOrDefault(n => Previews.Profiles.All(p => !p.Name.Equals(n, StringComparison.OrdinalIgnoreCase)));
        if (unknown is not null)
            return ApiErrors.BadRequest("emailClients", $"'{unknown}' is not one of MailSink's rendering profiles: {Known()} (they are Chromium's rendering at those sizes, not the mail clients themselves).");
        if (previews.Chromium is not { } chromium)
            return ApiErrors.BadRequest("emailClients", $"Previews are not available: they need Chromium (Debian: apt-get install chromium), on the PATH or named by {PreviewOptions.Section}:Chromium.");
        if (await messages.GetAsync(id, request.HttpContext.RequestAborted) is null)
            return TypedResults.NotFound();
        var profiles = names.Select(n => Previews.Profiles.First(p => p.Name.Equals(n, StringComparison.OrdinalIgnoreCase))).ToList();
        return TypedResults.Ok(new ListResultDto<PreviewDto>(previews.Start(id, profiles, chromium)));
    }

    private static async Task<IResult> File(Previews previews, HttpResponse response, string id)
    {
        if (previews.Find(id) is not { } rendering)
            return TypedResults.NotFound();
        if (!rendering.IsCompleted)
        {
            response.Headers["x-ms-delay"] = PollDelays;
            return TypedResults.StatusCode(StatusCodes.Status202Accepted);
        }

        try
        {
            return TypedResults.File(await rendering, "image/png", $"{id}.png");
        }
        catch (PreviewException ex)
        {
            return ApiErrors.BadRequest("preview", ex.Message);
        }
    }

    private static string Known() => string.Join(", ", Previews.Profiles.Select(p => p.Name));
}
