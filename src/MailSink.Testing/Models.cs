namespace MailSink.Testing;

/// <summary>An inbox (Mailosaur's "server") with its message count.</summary>
public sealed record Server(string Id, string Name, long Messages);

/// <summary>A name and an address, as a header gives them.</summary>
public sealed record MessageAddress(string? Name, string Email);

/// <summary>What a listing shows of a message.</summary>
public sealed record MessageSummary(
    string Id,
    string Server,
    DateTimeOffset Received,
    string? Subject,
    IReadOnlyList<MessageAddress> From,
    IReadOnlyList<MessageAddress> To,
    IReadOnlyList<MessageAddress> Cc,
    IReadOnlyList<MessageAddress> Bcc,
    string? Summary,
    int Attachments);

public sealed record Link(string? Href, string? Text);

public sealed record Code(string Value);

public sealed record Image(string? Src, string? Alt);

/// <summary>The text or the HTML of a message, with what was found in it when it arrived.</summary>
public sealed record MessageContent(string? Body, IReadOnlyList<Link>? Links, IReadOnlyList<Code>? Codes, IReadOnlyList<Image>? Images);

public sealed record Attachment(string Id, string? ContentType, string? FileName, string? ContentId, long Length, string? Url);

public sealed record Header(string Field, string Value);

/// <summary>How the message arrived: its headers and SMTP envelope.</summary>
public sealed record Metadata(
    IReadOnlyList<Header> Headers,
    string? Ehlo,
    string? MailFrom,
    IReadOnlyList<MessageAddress> RcptTo,
    string? RemoteAddress,
    string? Tls,
    string? AuthenticatedUser,
    string? ParseError);

/// <summary>One message in full.</summary>
public sealed record Message(
    string Id,
    string Server,
    DateTimeOffset Received,
    string? Subject,
    IReadOnlyList<MessageAddress> From,
    IReadOnlyList<MessageAddress> To,
    IReadOnlyList<MessageAddress> Cc,
    IReadOnlyList<MessageAddress> Bcc,
    MessageContent? Html,
    MessageContent? Text,
    IReadOnlyList<Attachment> Attachments,
    Metadata Metadata,
    long Size)
{
    /// <summary>Every link, the HTML's first (where a person would click), then the text's.</summary>
    public IEnumerable<string> Links =>
        (Html?.Links ?? []).Concat(Text?.Links ?? []).Select(l => l.Href).OfType<string>().Distinct(StringComparer.Ordinal);

    /// <summary>The first link, or null.</summary>
    public string? FirstLink => Links.FirstOrDefault();

    /// <summary>The first one-time code (4–8 digits, or capitals and digits), HTML's or text's, or null.</summary>
    public string? FirstCode => (Html?.Codes ?? []).Concat(Text?.Codes ?? []).Select(c => c.Value).FirstOrDefault();

    /// <summary>The first value of a header, or null.</summary>
    public string? Header(string field) => Metadata.Headers.FirstOrDefault(h => h.Field.Equals(field, StringComparison.OrdinalIgnoreCase))?.Value;
}

/// <summary>What a search or a wait matches (Mailosaur's criteria): whole addresses, substrings of subject and body.</summary>
public sealed record SearchCriteria(string? SentFrom = null, string? SentTo = null, string? Subject = null, string? Body = null, bool MatchAny = false);

/// <summary>An inbox id and the domain mail to it is sent under: <c>anything@{Id}.{Domain}</c>.</summary>
public sealed record Inbox(string Id, string Domain = "localhost")
{
    /// <summary>An address that lands in this inbox.</summary>
    public string Address(string local = "test") => $"{local}@{Id}.{Domain}";

    /// <summary>A new inbox name: 8 random lower-case letters and digits (what Mailosaur's clients accept too).</summary>
    public static Inbox New(string domain = "localhost")
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        var id = string.Create(8, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
                span[i] = alphabet[System.Security.Cryptography.RandomNumberGenerator.GetInt32(alphabet.Length)];
        });
        return new Inbox(id, domain);
    }

    /// <summary>The inbox an address lands in under <paramref name="domain"/>: the label left of it.</summary>
    public static Inbox Of(string address, string domain = "localhost")
    {
        var host = address[(address.LastIndexOf('@') + 1)..].TrimEnd('.').ToLowerInvariant();
        var suffix = "." + domain.ToLowerInvariant();
        if (!host.EndsWith(suffix, StringComparison.Ordinal))
            throw new ArgumentException($"{address} is not under {domain}: it does not name an inbox.", nameof(address));
        var prefix = host[..^suffix.Length];
        return new Inbox(prefix[(prefix.LastIndexOf('.') + 1)..], domain);
    }
}

/// <summary>The API answered with an error: its status and Mailosaur-shaped description.</summary>
public sealed class MailSinkApiException(int status, string? field, string message) : Exception(message)
{
    public int Status { get; } = status;

    public string? Field { get; } = field;
}
