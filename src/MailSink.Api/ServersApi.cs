using MailSink.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MailSink.Api;

/// <summary><c>api/servers</c>: inboxes in Mailosaur's shape. Inboxes also come into being with their first message.</summary>
internal static class ServersApi
{
    public static RouteGroupBuilder MapServersApi(this RouteGroupBuilder api)
    {
        // Create and update read their bodies first and take a turn only for the database: a client
        // sending its body slowly must not hold a turn meanwhile.
        var group = api.MapGroup("/servers").WithTags("Servers");
        group.MapGet("/", List).TakesStorageTurns().WithName("ListServers").WithSummary("Every inbox, with its message count.");
        group.MapPost("/", Create).WithName("CreateServer").WithSummary("Creates an inbox with a random 8-character id.")
            .Accepts<ServerDto>("application/json").Produces<ServerDto>().Produces(StatusCodes.Status400BadRequest);
        group.MapGet("/{id}", Get).TakesStorageTurns().WithName("GetServer");
        group.MapPut("/{id}", Update).WithName("UpdateServer").WithSummary("Renames an inbox.")
            .Accepts<ServerDto>("application/json").Produces<ServerDto>().Produces(StatusCodes.Status400BadRequest).Produces(StatusCodes.Status404NotFound);
        group.MapDelete("/{id}", Delete).TakesStorageTurns().WithName("DeleteServer").WithSummary("Deletes an inbox and all its messages.");
        group.MapGet("/{id}/password", Password).TakesStorageTurns().WithName("GetServerPassword").WithSummary("The inbox's SMTP password, empty when it has none.");
        return group;
    }

    private static Ok<ListResultDto<ServerDto>> List(MessageRepository repository) =>
        TypedResults.Ok(new ListResultDto<ServerDto>(repository.ListInboxes().Select(ToDto).ToList()));

    private static async Task<IResult> Create(MessageRepository repository, StorageTurns turns, TimeProvider time, HttpRequest request)
    {
        var (name, error) = await ReadNameAsync(request);
        if (error is not null)
            return error;
        using var turn = await turns.TakeAsync(request.HttpContext.RequestAborted);
        return TypedResults.Ok(ToDto(repository.CreateInbox(name!, time.GetUtcNow())));
    }

    private static Results<Ok<ServerDto>, NotFound> Get(MessageRepository repository, string id) =>
        repository.FindInbox(id) is { } inbox ? TypedResults.Ok(ToDto(inbox)) : TypedResults.NotFound();

    private static async Task<IResult> Update(MessageRepository repository, StorageTurns turns, HttpRequest request, string id)
    {
        var (name, error) = await ReadNameAsync(request);
        if (error is not null)
            return error;
        using var turn = await turns.TakeAsync(request.HttpContext.RequestAborted);
        return repository.RenameInbox(id, name!) is { } inbox ? TypedResults.Ok(ToDto(inbox)) : TypedResults.NotFound();
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

    private static Results<NoContent, NotFound> Delete(MessageRepository repository, string id) =>
        repository.DeleteInbox(id) ? TypedResults.NoContent() : TypedResults.NotFound();

    private static Results<Ok<ServerPasswordDto>, NotFound> Password(MessageRepository repository, IInboxPasswords passwords, string id) =>
        repository.FindInbox(id) is null
            ? TypedResults.NotFound()
            : TypedResults.Ok(new ServerPasswordDto(passwords.PasswordFor(id)));

    private static ServerDto ToDto(InboxRecord inbox) => new(inbox.Id, inbox.Name, [], inbox.Messages);
}
