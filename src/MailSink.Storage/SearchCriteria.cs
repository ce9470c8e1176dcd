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

    public bool Matches(StoredMessage message)
    {
        if (IsEmpty)
            return true;

        Span<bool> results = stackalloc bool[4];
        var count = 0;
        if (!string.IsNullOrEmpty(SentFrom))
        {
            var from = SentFrom.Trim();
            results[count++] = Same(message.Envelope.MailFrom, from) || message.From.Any(a => Same(a.Email, from));
        }

        if (!string.IsNullOrEmpty(SentTo))
        {
            var to = SentTo.Trim();
            results[count++] = message.Envelope.RcptTo.Any(r => Same(r, to))
                               || message.To.Any(a => Same(a.Email, to))
                               || message.Cc.Any(a => Same(a.Email, to))
                               || message.Bcc.Any(a => Same(a.Email, to));
        }

        if (!string.IsNullOrEmpty(Subject))
            results[count++] = message.Subject?.Contains(Subject, StringComparison.OrdinalIgnoreCase) == true;

        if (!string.IsNullOrEmpty(Body))
        {
            results[count++] = message.Text?.Contains(Body, StringComparison.OrdinalIgnoreCase) == true
                               || message.Html?.Contains(Body, StringComparison.OrdinalIgnoreCase) == true;
        }

        var matched = results[..count];
        return Match == SearchMatch.All ? !matched.Contains(false) : matched.Contains(true);
    }

    private static bool Same(string? address, string wanted) => string.Equals(address, wanted, StringComparison.OrdinalIgnoreCase);
}
