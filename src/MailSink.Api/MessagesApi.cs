using MailSink.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MailSink.Api;

/// <summary><c>api/messages</c>: Mailosaur's message endpoints.</summary>
internal static class MessagesApi
{
    public static RouteGroupBuilder MapMessagesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/messages").WithTags("Messages");
        group.MapGet("/", List).WithName("ListMessages").WithSummary("Summaries of one inbox's messages, newest first.");
        group.MapGet("/{id}", Get).WithName("GetMessage").WithSummary("One message, in full.");
        return group;
    }

    private static IResult List(
        MessageRepository repository,
        string? server,
        string? page,
        string? itemsPerPage,
        string? receivedAfter)
    {
        if (!QueryParameters.TryServer(server, out var error)
            || !QueryParameters.TryPaging(page, itemsPerPage, out var skip, out var take, out error)
            || !QueryParameters.TryDate(receivedAfter, "receivedAfter", out var after, out error))
            return error!;

        var items = repository.ListMessages(server!.Trim().ToLowerInvariant(), skip, take, after)
            .Select(m => m.ToSummaryDto())
            .ToList();
        return TypedResults.Ok(new ListResultDto<MessageSummaryDto>(items));
    }

    private static Results<Ok<MessageDto>, NotFound> Get(MessageRepository repository, HttpRequest request, string id)
    {
        var message = repository.FindMessage(id);
        return message is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(message.ToDto($"{request.Scheme}://{request.Host}{request.PathBase}"));
    }
}
