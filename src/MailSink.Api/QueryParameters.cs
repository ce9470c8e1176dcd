using System.Globalization;
using MailSink.Storage.Ingest;

namespace MailSink.Api;

/// <summary>Parses query parameters by hand, so that a bad value is a Mailosaur-shaped 400, never a 500.</summary>
internal static partial class QueryParameters
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

    /// <summary>
    /// An ISO 8601 date, or date and time (UTC unless it has an offset), as every Mailosaur client sends one.
    /// Nothing else: "06/12/2026" would otherwise be read the American way, as 12 June. A <c>+</c> offset
    /// written unencoded in a URL arrives as a space ("…T13:21:58.41 00:00"), which is read back as the
    /// <c>+</c> it was: a value pasted from a <c>received</c> field then works.
    /// </summary>
    public static bool TryDate(string? value, string field, out DateTimeOffset? date, out IResult? error)
    {
        date = null;
        error = null;
        if (string.IsNullOrEmpty(value))
            return true;
        var text = UnencodedPlus().Replace(value.Trim(), "$1+$2");
        if (IsoDateStart().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            date = parsed;
            return true;
        }

        error = ApiErrors.BadRequest(field, $"{field} must be an ISO 8601 date and time, such as 2026-01-31T12:00:00Z or 2026-01-31T13:00:00%2B01:00 (a + written %2B in a URL).");
        return false;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\d{4}-\d{2}-\d{2}(?:$|[Tt ])")]
    private static partial System.Text.RegularExpressions.Regex IsoDateStart();

    [System.Text.RegularExpressions.GeneratedRegex(@"^(\d{4}-\d{2}-\d{2}[Tt ][\d:.,]+) (\d{2}(?::?\d{2})?)$")]
    private static partial System.Text.RegularExpressions.Regex UnencodedPlus();

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
