using System.Globalization;
using MailSink.Storage.Ingest;

namespace MailSink.Api;

/// <summary>Parses query parameters by hand, so that a bad value is a Mailosaur-shaped 400, never a 500.</summary>
internal static class QueryParameters
{
    public const int DefaultItemsPerPage = 50;
    public const int MaxItemsPerPage = 1000;

    public static bool TryPaging(string? page, string? itemsPerPage, out int skip, out int take, out IResult? error)
    {
        skip = 0;
        take = DefaultItemsPerPage;
        error = null;
        var pageNumber = 0;
        if (!string.IsNullOrEmpty(page) && (!int.TryParse(page, NumberStyles.None, CultureInfo.InvariantCulture, out pageNumber) || pageNumber < 0))
        {
            error = ApiErrors.BadRequest("page", "page must be a whole number, 0 or more.");
            return false;
        }

        if (!string.IsNullOrEmpty(itemsPerPage)
            && (!int.TryParse(itemsPerPage, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take < 1))
        {
            error = ApiErrors.BadRequest("itemsPerPage", $"itemsPerPage must be a whole number from 1 to {MaxItemsPerPage}.");
            return false;
        }

        take = Math.Min(take, MaxItemsPerPage);
        skip = (int)Math.Min((long)pageNumber * take, int.MaxValue);
        return true;
    }

    public static bool TryDate(string? value, string field, out DateTimeOffset? date, out IResult? error)
    {
        date = null;
        error = null;
        if (string.IsNullOrEmpty(value))
            return true;
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            date = parsed;
            return true;
        }

        error = ApiErrors.BadRequest(field, $"{field} must be an ISO 8601 date and time, such as 2026-01-31T12:00:00Z.");
        return false;
    }

    /// <summary>
    /// <c>dir</c>, in both its meanings: Mailosaur's clients send the direction, <c>Received</c> (the default:
    /// every message in a sink was received) or <c>Sent</c> (refused: MailSink keeps no sent folder; what the
    /// API sends lands in its recipients' inboxes); <c>asc</c> or <c>desc</c> give the order (newest first
    /// by default). Any case.
    /// </summary>
    public static bool TryDirection(string? dir, out bool oldestFirst, out IResult? error)
    {
        oldestFirst = false;
        error = null;
        if (string.IsNullOrEmpty(dir) || dir.Equals("desc", StringComparison.OrdinalIgnoreCase) || dir.Equals("Received", StringComparison.OrdinalIgnoreCase))
            return true;
        if (dir.Equals("asc", StringComparison.OrdinalIgnoreCase))
        {
            oldestFirst = true;
            return true;
        }

        error = dir.Equals("Sent", StringComparison.OrdinalIgnoreCase)
            ? ApiErrors.BadRequest("dir", "Sent messages are not available in MailSink: it keeps no sent folder; what create (send: true), forward and reply send lands in its recipients' inboxes.")
            : ApiErrors.BadRequest("dir", "dir must be Received (the default), asc (oldest first) or desc (newest first).");
        return false;
    }

    public static bool TryServer(string? server, out IResult? error)
    {
        error = null;
        if (string.IsNullOrWhiteSpace(server))
        {
            error = ApiErrors.BadRequest("server", "Specify the server (inbox) id, e.g. ?server=abcd1234.");
            return false;
        }

        error = NotAnInbox(server);
        return error is null;
    }

    /// <summary>
    /// A 400 for a server that no inbox can have (a name with a dot, such as the whole domain): listing it
    /// used to answer an empty list for ever, which a test reads as "no mail yet". Null for a possible id.
    /// </summary>
    public static IResult? NotAnInbox(string server)
    {
        if (InboxRouter.IsValidInboxId(MessagesApi.Inbox(server)))
            return null;
        var dot = server.IndexOf('.', StringComparison.Ordinal);
        var hint = dot > 0 && InboxRouter.IsValidInboxId(MessagesApi.Inbox(server[..dot]))
            ? $" For mail to anything@{server}, the inbox is {server[..dot]}."
            : "";
        return ApiErrors.BadRequest("server", $"server must be an inbox id: letters, digits, '-' or '_'.{hint}");
    }
}
