using MailSink.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MailSink.Api;

/// <summary>
/// <c>api/servers</c>: inboxes in Mailosaur's shape. Inboxes also come into being with their first message.
/// An id in a path is read as <c>?server=</c> reads it: in any case, a Unicode label as its ASCII form.
/// </summary>
internal static class ServersApi
{
    public static RouteGroupBuilder MapServersApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/servers").WithTags("Servers");
        group.MapGet("/", List).WithName("ListServers").WithSummary("Every inbox, with its message count.");
        group.MapPost("/", Create).WithName("CreateServer").WithSummary("Creates an inbox with a random 8-character id.")
            .Accepts<ServerDto>("application/json").Produces<ServerDto>().Produces(StatusCodes.Status400BadRequest);
        group.MapGet("/{id}", Get).WithName("GetServer");
        group.MapPut("/{id}", Update).WithName("UpdateServer").WithSummary("Renames an inbox.")
            .Accepts<ServerDto>("application/json").Produces<ServerDto>().Produces(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", Delete).WithName("DeleteServer").WithSummary("Deletes an inbox and all its messages.");
        group.MapGet("/{id}/password", Password).WithName("GetServerPassword").WithSummary("The inbox's SMTP password (user name: the inbox id); empty in Users mode when no user is named like the inbox.");
        return group;
    }

    private static async Task<Ok<ListResultDto<ServerDto>>> List(IInboxRepository inboxes, HttpContext context) =>
        TypedResults.Ok(new ListResultDto<ServerDto>((await inboxes.ListAsync(context.RequestAborted)).Select(ToDto).ToList()));

    private static async Task<IResult> Create(IInboxRepository inboxes, HttpRequest request)
    {
        var (name, error) = await ReadNameAsync(request);
        if (error is not null)
            return error;
        return TypedResults.Ok(ToDto(await inboxes.CreateAsync(name!, request.HttpContext.RequestAborted)));
    }

    private static async Task<Results<Ok<ServerDto>, NotFound>> Get(IInboxRepository inboxes, HttpContext context, string id) =>
        await inboxes.GetAsync(MessagesApi.Inbox(id), context.RequestAborted) is { } inbox ? TypedResults.Ok(ToDto(inbox)) : TypedResults.NotFound();

    private static async Task<IResult> Update(IInboxRepository inboxes, HttpRequest request, string id)
    {
        var (name, error) = await ReadNameAsync(request);
        if (error is not null)
            return error;
        return await inboxes.RenameAsync(MessagesApi.Inbox(id), name!, request.HttpContext.RequestAborted) is { } inbox ? TypedResults.Ok(ToDto(inbox)) : TypedResults.NotFound();
    }

    /// <summary>
    /// The server's name from a body in any case (<c>name</c> or .NET's <c>Name</c>), trimmed; a 400 when
    /// missing, or when <see cref="StoredText"/> refuses it (too long, a control character).
    /// </summary>
    private static async Task<(string? Name, IResult? Error)> ReadNameAsync(HttpRequest request)
    {
        var (body, error) = await RequestBodies.ReadObjectAsync(request, "name", required: true);
        if (error is not null)
            return (null, error);
        if (!RequestBodies.TryString(body!.Value, "name", out var name, out error))
            return (null, error);
        if (string.IsNullOrWhiteSpace(name))
            return (null, ApiErrors.BadRequest("name", "Servers need a name"));
        return StoredText.TryCheck("name", name, out error) ? (name.Trim(), null) : (null, error);
    }

    private static async Task<Results<NoContent, NotFound>> Delete(IInboxRepository inboxes, HttpContext context, string id) =>
        await inboxes.DeleteAsync(MessagesApi.Inbox(id), context.RequestAborted) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static async Task<Results<Ok<ServerPasswordDto>, NotFound>> Password(IInboxRepository inboxes, IInboxPasswords passwords, HttpContext context, string id)
    {
        id = MessagesApi.Inbox(id);
        return await inboxes.GetAsync(id, context.RequestAborted) is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(new ServerPasswordDto(passwords.PasswordFor(id)));
    }

    private static ServerDto ToDto(InboxRecord inbox) => new(
        inbox.Id, inbox.Name, [], inbox.Messages, inbox.LastReceivedTicks > 0 ? new DateTimeOffset(inbox.LastReceivedTicks, TimeSpan.Zero) : null);
}
