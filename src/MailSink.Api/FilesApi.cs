using MailSink.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MailSink.Api;

/// <summary>
/// <c>api/files</c>: the raw message byte for byte, and attachments decoded on demand. Both are downloads
/// that a browser must never render as active content from the API's origin.
/// </summary>
internal static class FilesApi
{
    public static RouteGroupBuilder MapFilesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/files").WithTags("Files");
        group.MapGet("/email/{id}", GetEmail).WithName("GetEmail").WithSummary("The raw message (.eml), byte for byte.");
        group.MapGet("/attachments/{id}", GetAttachment).WithName("GetAttachment").WithSummary("An attachment's decoded bytes.");
        return group;
    }

    private static async Task<Results<FileContentHttpResult, NotFound>> GetEmail(IMessageRepository messages, HttpContext context, string id)
    {
        if (await messages.GetRawAsync(id, context.RequestAborted) is not { } raw)
            return TypedResults.NotFound();

        Harden(context.Response);
        return TypedResults.File(raw, "message/rfc822", $"{id}.eml");
    }

    private static async Task<Results<FileContentHttpResult, NotFound>> GetAttachment(IMessageRepository messages, HttpContext context, string id)
    {
        if (await messages.GetAttachmentAsync(id, context.RequestAborted) is not { } file)
            return TypedResults.NotFound();

        Harden(context.Response);
        return TypedResults.File(file.Content, file.Attachment.ContentType, file.Attachment.FileName ?? file.Attachment.Id);
    }

    private static void Harden(HttpResponse response)
    {
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
    }
}
