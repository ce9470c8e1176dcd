using MailSink.Storage;
using Microsoft.Extensions.Options;

namespace MailSink.Api;

/// <summary>
/// <c>api/usage</c>: what Mailosaur's account usage calls report, from what this MailSink really holds.
/// A limit of 0 means none. MailSink has no user accounts and no SMS, so those are 0 of 0.
/// </summary>
internal static class UsageApi
{
    /// <summary>Days of transactions reported: today and the 30 before it (Mailosaur's month).</summary>
    private const int Days = 31;

    public static RouteGroupBuilder MapUsageApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/usage").WithTags("Usage");
        group.MapGet("/limits", Limits).WithName("GetUsageLimits")
            .WithSummary("Inboxes and messages kept now, against the configured limits (0: none).").Produces<UsageLimitsDto>();
        group.MapGet("/transactions", Transactions).WithName("GetUsageTransactions")
            .WithSummary("Messages kept, by the UTC day they arrived on, newest day first, for the last 31 days.").Produces<ListResultDto<UsageTransactionDto>>();
        return group;
    }

    private static async Task<IResult> Limits(IInboxRepository inboxes, IOptions<StorageOptions> storage, HttpContext context)
    {
        var all = await inboxes.ListAsync(context.RequestAborted);
        var perInbox = storage.Value.MaxMessagesPerInbox;
        return TypedResults.Ok(new UsageLimitsDto(
            Servers: new UsageLimitDto(0, all.Count),
            Users: new UsageLimitDto(0, 0),
            Email: new UsageLimitDto(perInbox > 0 ? (long)perInbox * all.Count : 0, all.Sum(i => i.Messages)),
            Sms: new UsageLimitDto(0, 0)));
    }

    private static async Task<IResult> Transactions(IUsageReader usage, TimeProvider time, HttpContext context)
    {
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var first = today.AddDays(-(Days - 1));
        var counts = (await usage.CountByDayAsync(new DateTimeOffset(first.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), context.RequestAborted))
            .ToDictionary(d => d.Day, d => d.Messages);
        var items = Enumerable.Range(0, Days)
            .Select(back => today.AddDays(-back))
            .Select(day => new UsageTransactionDto(new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), counts.GetValueOrDefault(day), 0))
            .ToList();
        return TypedResults.Ok(new ListResultDto<UsageTransactionDto>(items));
    }
}

public sealed record UsageLimitDto(long Limit, long Current);

public sealed record UsageLimitsDto(UsageLimitDto Servers, UsageLimitDto Users, UsageLimitDto Email, UsageLimitDto Sms);

public sealed record UsageTransactionDto(DateTimeOffset Timestamp, long Email, long Sms);
