using MailSink.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MailSink.Api;

/// <summary><c>api/files</c>: the raw message, byte for byte as received.</summary>
internal static class FilesApi
{
    public static RouteGroupBuilder MapFilesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/files").WithTags("Files");
        group.MapGet("/email/{id}", GetEmail).WithName("GetEmail").WithSummary("The raw message (.eml), byte for byte.");
        return group;
    }

    private static Results<FileContentHttpResult, NotFound> GetEmail(MessageRepository repository, HttpResponse response, string id)
    {
        var message = repository.FindMessage(id);
        var raw = message is null ? null : repository.ReadRaw(message.RawId);
        if (raw is null)
            return TypedResults.NotFound();

        // Never rendered from our origin: a download, sniffing off, nothing active.
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        return TypedResults.File(raw, "message/rfc822", $"{message!.Id}.eml");
    }
}
