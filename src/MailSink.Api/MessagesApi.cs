using System.Globalization;
using MailSink.Storage;
using MailSink.Storage.Ingest;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MailSink.Api;

/// <summary><c>api/messages</c>: Mailosaur's message endpoints, plus a server-side wait.</summary>
internal static class MessagesApi
{
    /// <summary>
    /// Poll pacing for Mailosaur's clients, which wait between searches for the next of these values
    /// (milliseconds; the last repeats). A sink answers fast, so poll fast.
    /// </summary>
    public const string PollDelays = "100,100,200,300,500";

    private const int DefaultWaitMilliseconds = 10_000;
    private const int MaxWaitMilliseconds = 300_000;

    public static RouteGroupBuilder MapMessagesApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/messages").WithTags("Messages");
        group.MapGet("/", List).WithName("ListMessages").WithSummary("Summaries of one inbox's messages, newest first.")
            .Produces<ListResultDto<MessageSummaryDto>>().Produces(StatusCodes.Status400BadRequest);
        group.MapPost("/search", Search).WithName("SearchMessages").WithSummary("Summaries of one inbox's messages matching criteria, newest first.")
            .Accepts<SearchCriteriaDto>("application/json").Produces<ListResultDto<MessageSummaryDto>>().Produces(StatusCodes.Status400BadRequest);
        group.MapPost("/await", Await).WithName("AwaitMessage")
            .WithSummary("Waits for the newest message matching criteria (any message when empty); answers as soon as it is stored.")
            .Accepts<SearchCriteriaDto>("application/json").Produces<MessageDto>().Produces(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status408RequestTimeout);
        group.MapGet("/{id}", Get).WithName("GetMessage").WithSummary("One message, in full.");
        foreach (var postOnly in new[] { "search", "await", "raw" })
        {
            // Without these, GET api/messages/await would ask for a message whose id is "await": a bare 404; and an
            // OPTIONS, which no route takes, would be a 405 whose Allow named the methods of /{id} as well.
            group.MapMethods($"/{postOnly}", [HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Delete, HttpMethods.Patch, HttpMethods.Options], (HttpContext context) => PostOnly(context, postOnly))
                .ExcludeFromDescription();
        }

        group.MapDelete("/{id}", Delete).WithName("DeleteMessage").WithSummary("Deletes one message.");
        group.MapDelete("/", DeleteAll).WithName("DeleteAllMessages").WithSummary("Deletes every message of one inbox.")
            .Produces(StatusCodes.Status204NoContent).Produces(StatusCodes.Status400BadRequest);
        return group;
    }

    private static IResult PostOnly(HttpContext context, string call)
    {
        context.Response.Headers.Allow = HttpMethods.Post;
        return ApiErrors.Problem(
            StatusCodes.Status405MethodNotAllowed, "method",
            $"{context.Request.Method} /api/messages/{call} is not served: {call} takes POST, " + call switch
            {
                "raw" => "with the message's bytes as the body.",
                "await" => "with its criteria as a JSON body ({} for any message).",
                _ => "with its criteria as a JSON body.",
            });
    }

    private static async Task<IResult> List(
        IMessageRepository messages, HttpContext context, string? server, string? page, string? itemsPerPage, string? receivedAfter, string? dir)
    {
        if (!QueryParameters.TryServer(server, out var error)
            || !QueryParameters.TryPaging(page, itemsPerPage, out var skip, out var take, out error)
            || !QueryParameters.TryDate(receivedAfter, "receivedAfter", out var after, out error)
            || !QueryParameters.TryDirection(dir, out var oldestFirst, out error))
            return error!;

        var items = (await messages.ListAsync(Inbox(server), skip, take, after, context.RequestAborted, oldestFirst)).Select(m => m.ToSummaryDto()).ToList();
        return TypedResults.Ok(new ListResultDto<MessageSummaryDto>(items));
    }

    private static async Task<IResult> Search(
        IMessageRepository messages,
        HttpRequest request,
        HttpResponse response,
        string? server,
        string? page,
        string? itemsPerPage,
        string? receivedAfter,
        string? dir)
    {
        if (!QueryParameters.TryServer(server, out var error)
            || !QueryParameters.TryPaging(page, itemsPerPage, out var skip, out var take, out error)
            || !QueryParameters.TryDate(receivedAfter, "receivedAfter", out var after, out error)
            || !QueryParameters.TryDirection(dir, out var oldestFirst, out error))
            return error!;

        var (body, bodyError) = await RequestBodies.ReadObjectAsync(request, "criteria", required: true);
        if (bodyError is not null)
            return bodyError;
        if (!RequestBodies.TryCriteria(body, out var criteria, out error))
            return error!;
        if (criteria.IsEmpty)
            return ApiErrors.BadRequest("criteria", "Give at least one of sentFrom, sentTo, subject or body.");

        response.Headers["x-ms-delay"] = PollDelays;
        var found = oldestFirst
            ? await OldestFirstAsync(messages, Inbox(server), criteria, skip, take, after, request.HttpContext.RequestAborted)
            : await messages.SearchAsync(Inbox(server), criteria, skip, take, after, request.HttpContext.RequestAborted);
        var items = found.Select(m => m.ToSummaryDto()).ToList();
        return TypedResults.Ok(new ListResultDto<MessageSummaryDto>(items));
    }

    /// <summary>
    /// A search oldest first: engines search newest first, so every match is found and the page is taken
    /// from the other end (bounded by the inbox's size; <c>dir=asc</c> is rare and its inboxes small).
    /// </summary>
    private static async Task<IReadOnlyList<StoredMessage>> OldestFirstAsync(
        IMessageRepository messages, string inbox, SearchCriteria criteria, int skip, int take, DateTimeOffset? after, CancellationToken cancellationToken)
    {
        var all = await messages.SearchAsync(inbox, criteria, 0, int.MaxValue, after, cancellationToken);
        return all.Reverse().Skip(skip).Take(take).ToList();
    }

    private static async Task<IResult> Await(
        MessageWaiter waiter,
        HttpRequest request,
        string? server,
        string? timeout,
        string? receivedAfter)
    {
        if (!QueryParameters.TryServer(server, out var error)
            || !QueryParameters.TryDate(receivedAfter, "receivedAfter", out var after, out error))
            return error!;

        var milliseconds = DefaultWaitMilliseconds;
        if (!string.IsNullOrEmpty(timeout)
            && (!int.TryParse(timeout, NumberStyles.None, CultureInfo.InvariantCulture, out milliseconds) || milliseconds > MaxWaitMilliseconds))
            return ApiErrors.BadRequest("timeout", $"timeout must be a whole number of milliseconds from 0 to {MaxWaitMilliseconds}.");

        var (body, bodyError) = await RequestBodies.ReadObjectAsync(request, "criteria", required: false);
        if (bodyError is not null)
            return bodyError;
        if (!RequestBodies.TryCriteria(body, out var criteria, out error))
            return error!;

        var message = await waiter.WaitAsync(Inbox(server), criteria, after, TimeSpan.FromMilliseconds(milliseconds), request.HttpContext.RequestAborted);
        return message is null
            ? ApiErrors.Problem(StatusCodes.Status408RequestTimeout, "timeout", $"No matching message arrived in inbox {Inbox(server)} within {milliseconds} ms.")
            : TypedResults.Ok(message.ToDto(BaseUrl(request)));
    }

    private static async Task<Results<Ok<MessageDto>, NotFound>> Get(IMessageRepository messages, HttpRequest request, string id) =>
        await messages.GetAsync(id, request.HttpContext.RequestAborted) is { } message ? TypedResults.Ok(message.ToDto(BaseUrl(request))) : TypedResults.NotFound();

    private static async Task<Results<NoContent, NotFound>> Delete(IMessageRepository messages, HttpContext context, string id) =>
        await messages.DeleteAsync(id, context.RequestAborted) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static async Task<IResult> DeleteAll(IMessageRepository messages, HttpContext context, string? server)
    {
        if (!QueryParameters.TryServer(server, out var error))
            return error!;
        await messages.DeleteAllAsync(Inbox(server), context.RequestAborted);
        return TypedResults.NoContent();
    }

    /// <summary>The inbox a <c>server</c> parameter names: any case, a Unicode label as its ASCII form (how mail routes it).</summary>
    internal static string Inbox(string? server) => InboxRouter.NormalizeInboxId(server!);

    internal static string BaseUrl(HttpRequest request) => $"{request.Scheme}://{request.Host}{request.PathBase}";
}

/// <summary>Search criteria as documented (the body is read leniently: any case, match as string or number).</summary>
public sealed record SearchCriteriaDto(string? SentFrom, string? SentTo, string? Subject, string? Body, string? Match);
