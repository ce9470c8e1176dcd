using System.Buffers;
using System.Text;

namespace MailSink.Storage.Search;

/// <summary>
/// What search needs of a message, small enough to keep in memory for every message: its id and time,
/// the senders (MAIL FROM and From) and recipients (RCPT TO, To, Cc, Bcc), and the subject. Its bodies
/// may be kept beside them, within <see cref="SearchIndex"/>'s memory budget.
/// </summary>
internal sealed class SearchFacts(string id, long ticks, string[] senders, string[] recipients, string? subject)
{
    private SearchBodies? _bodies;

    public string Id { get; } = id;

    public long Ticks { get; } = ticks;

    public string[] Senders { get; } = senders;

    public string[] Recipients { get; } = recipients;

    public string? Subject { get; } = subject;

    /// <summary>The message's bodies when they are kept in memory; null when they must be read from its raw message.</summary>
    public SearchBodies? Bodies => Volatile.Read(ref _bodies);

    /// <summary>
    /// Whether the facts joined their inbox's list (an arrival during the inbox's first load may not).
    /// Set under the inbox's lock.
    /// </summary>
    internal bool Indexed { get; set; }

    /// <summary>
    /// Whether the message was deleted or its inbox forgotten: no body is kept for it any more, even by a
    /// search that read the message before. Set and read under the index's keeping lock.
    /// </summary>
    internal bool Retired { get; set; }

    /// <summary>Sets or clears the kept bodies; what was kept before. Under the index's keeping lock.</summary>
    internal SearchBodies? Exchange(SearchBodies? bodies) => Interlocked.Exchange(ref _bodies, bodies);

    public static SearchFacts Of(StoredMessage message) => new(
        message.Id,
        message.ReceivedTicks,
        [message.Envelope.MailFrom, .. message.From.Select(a => a.Email)],
        [.. message.Envelope.RcptTo, .. message.To.Select(a => a.Email), .. message.Cc.Select(a => a.Email), .. message.Bcc.Select(a => a.Email)],
        message.Subject);
}

/// <summary>
/// A message's text and HTML bodies, as a body search compares them. A body of ASCII characters only,
/// which most are, is kept as one byte a character and widened again for each comparison.
/// </summary>
internal sealed class SearchBodies
{
    private readonly object? _text;
    private readonly object? _html;

    public SearchBodies(string? text, string? html)
    {
        _text = Compact(text);
        _html = Compact(html);
        Bytes = 96 + Size(_text) + Size(_html);
    }

    /// <summary>What keeping these costs in memory, objects' headers included.</summary>
    public long Bytes { get; }

    /// <summary>Whether the text or the HTML body holds <paramref name="value"/>, compared as <see cref="SearchCriteria.BodyMatches"/> does.</summary>
    public bool Contain(string value) => Holds(_text, value) || Holds(_html, value);

    public string? Text => Expand(_text);

    public string? Html => Expand(_html);

    private static object? Compact(string? body) =>
        body is not null && Ascii.IsValid(body) ? Encoding.ASCII.GetBytes(body) : body;

    private static long Size(object? body) => body switch
    {
        byte[] bytes => 24 + bytes.LongLength,
        string text => 24 + 2L * text.Length,
        _ => 0,
    };

    private static string? Expand(object? body) => body is byte[] bytes ? Encoding.ASCII.GetString(bytes) : (string?)body;

    private static bool Holds(object? body, string value)
    {
        if (body is string text)
            return text.Contains(value, StringComparison.OrdinalIgnoreCase);
        if (body is not byte[] bytes)
            return false;
        // Widened into a rented buffer, the same characters the string had, compared the same way.
        var chars = ArrayPool<char>.Shared.Rent(Math.Max(bytes.Length, 1));
        try
        {
            var count = Encoding.Latin1.GetChars(bytes, chars);
            return chars.AsSpan(0, count).IndexOf(value, StringComparison.OrdinalIgnoreCase) >= 0;
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }
}
