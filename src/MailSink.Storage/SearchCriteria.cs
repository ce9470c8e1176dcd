using MailSink.Storage.Search;

namespace MailSink.Storage;

public enum SearchMatch
{
    /// <summary>Every given criterion must match.</summary>
    All,

    /// <summary>At least one given criterion must match.</summary>
    Any,
}

/// <summary>
/// Mailosaur's search criteria. Addresses match whole (case-insensitive): <see cref="SentFrom"/> against
/// the From header and MAIL FROM, <see cref="SentTo"/> against To, Cc, Bcc and RCPT TO. Subject and body
/// match as case-insensitive plain substrings (no patterns); the body is the text and the HTML.
/// </summary>
public sealed record SearchCriteria(string? SentFrom, string? SentTo, string? Subject, string? Body, SearchMatch Match = SearchMatch.All)
{
    public bool IsEmpty =>
        string.IsNullOrEmpty(SentFrom) && string.IsNullOrEmpty(SentTo) && string.IsNullOrEmpty(Subject) && string.IsNullOrEmpty(Body);

    public bool Matches(StoredMessage message) =>
        Matches(SearchFacts.Of(message), () => BodyMatches(message.Text, message.Html));

    /// <summary>Whether the text or the HTML body holds <see cref="Body"/>.</summary>
    internal bool BodyMatches(string? text, string? html) =>
        text?.Contains(Body!, StringComparison.OrdinalIgnoreCase) == true
        || html?.Contains(Body!, StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>
    /// Matches on the small facts first and asks for the body (which may mean loading the message) only
    /// when the answer still depends on it.
    /// </summary>
    internal bool Matches(SearchFacts facts, Func<bool> bodyMatches)
    {
        if (IsEmpty)
            return true;

        var all = Match == SearchMatch.All;
        if (!string.IsNullOrEmpty(SentFrom) && Decides(facts.Senders.Any(a => Same(a, SentFrom.Trim())), all, out var result))
            return result;
        if (!string.IsNullOrEmpty(SentTo) && Decides(facts.Recipients.Any(a => Same(a, SentTo.Trim())), all, out result))
            return result;
        if (!string.IsNullOrEmpty(Subject) && Decides(facts.Subject?.Contains(Subject, StringComparison.OrdinalIgnoreCase) == true, all, out result))
            return result;
        if (!string.IsNullOrEmpty(Body))
            return bodyMatches();

        // Every criterion given was checked without deciding: ALL matched them all, ANY matched none.
        return all;
    }

    /// <summary>A false decides ALL, a true decides ANY.</summary>
    private static bool Decides(bool matched, bool all, out bool result)
    {
        result = matched;
        return all ? !matched : matched;
    }

    private static bool Same(string? address, string wanted) => string.Equals(address, wanted, StringComparison.OrdinalIgnoreCase);
}
