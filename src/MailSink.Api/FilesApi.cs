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
        var group = api.MapGroup("/files").WithTags("Files").TakesStorageTurns();
        group.MapGet("/email/{id}", GetEmail).WithName("GetEmail").WithSummary("The raw message (.eml), byte for byte.");
        group.MapGet("/attachments/{id}", GetAttachment).WithName("GetAttachment").WithSummary("An attachment's decoded bytes.");
        return group;
    }

    private static Results<FileContentHttpResult, NotFound> GetEmail(MessageRepository repository, HttpResponse response, string id)
    {
        var message = repository.FindMessage(id);
        var raw = message is null ? null : repository.ReadRaw(message);
        if (raw is null)
            return TypedResults.NotFound();

        Harden(response);
        return TypedResults.File(raw, "message/rfc822", $"{message!.Id}.eml");
    }

    private static Results<FileContentHttpResult, NotFound> GetAttachment(MessageRepository repository, HttpResponse response, string id)
    {
        if (repository.FindAttachment(id) is not var (message, attachment))
            return TypedResults.NotFound();
        var raw = repository.ReadRaw(message);
        var part = raw is null ? null : MessageParser.FindPart(raw, attachment.PartIndex);
        if (part is null)
            return TypedResults.NotFound();

        using var content = new MemoryStream();
        MessageParser.WriteAttachment(part, content);
        Harden(response);
        return TypedResults.File(content.ToArray(), attachment.ContentType, attachment.FileName ?? attachment.Id);
    }

    private static void Harden(HttpResponse response)
    {
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
    }
}
