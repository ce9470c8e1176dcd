namespace MailSink.Storage.LiteDb;

/// <summary>
/// A message as LiteDB keeps it. In <c>messages</c>, one document per inbox copy, keyed by inbox and time
/// (<see cref="Key"/>); a message that reached one inbox holds all its parsed fields, and its raw message
/// too when that is small (<see cref="RawData"/>). A message that reached several inboxes keeps its parsed
/// fields and raw message once, in a document of <c>contents</c> (<see cref="Refs"/> copies point to it),
/// and each copy holds only its id, key, <see cref="Content"/> and <see cref="AttachmentIds"/>: a 947 KB
/// message with 1,000 long links sent to 1,000 inboxes took 1.2 GB when every copy carried its own.
/// Field names are those of the documents earlier versions wrote, which read back the same.
/// </summary>
internal sealed class MessageDocument
{
    public string Id { get; set; } = "";

    /// <summary>Listing key, <c>inbox/ticks</c> (19 digits): one index serves "newest of one inbox". Empty in <c>contents</c>.</summary>
    public string Key { get; set; } = "";

    /// <summary>Where the raw message is in the <c>raw</c> collection when it is not in <see cref="RawData"/>.</summary>
    public string RawId { get; set; } = "";

    /// <summary>The raw message itself when it is small, Brotli-compressed exactly when shorter than <see cref="Size"/>.</summary>
    public byte[]? RawData { get; set; }

    /// <summary>
    /// Documents written before <see cref="Content"/> existed: the ids of the other inbox copies sharing the
    /// raw message in <c>raw</c> (the last one deleted takes it along).
    /// </summary>
    public List<string> Copies { get; set; } = [];

    /// <summary>The id in <c>contents</c> of the parsed fields and raw message this copy shares with others; null when they are here.</summary>
    public string? Content { get; set; }

    /// <summary>A shared copy's own attachment ids, in the order of the content's attachments.</summary>
    public List<string> AttachmentIds { get; set; } = [];

    /// <summary>In <c>contents</c>: how many copies point here (the last one deleted takes the content along).</summary>
    public int Refs { get; set; }

    public long Size { get; set; }

    public StoredEnvelope Envelope { get; set; } = new();

    public string? Subject { get; set; }

    public List<StoredAddress> From { get; set; } = [];

    public List<StoredAddress> To { get; set; } = [];

    public List<StoredAddress> Cc { get; set; } = [];

    public List<StoredAddress> Bcc { get; set; } = [];

    public string? MessageIdHeader { get; set; }

    public DateTime? Date { get; set; }

    public string Summary { get; set; } = "";

    public List<StoredLink> HtmlLinks { get; set; } = [];

    public List<StoredImage> HtmlImages { get; set; } = [];

    public List<string> HtmlCodes { get; set; } = [];

    public List<StoredLink> TextLinks { get; set; } = [];

    public List<string> TextCodes { get; set; } = [];

    public List<StoredAttachment> Attachments { get; set; } = [];

    public string? ParseError { get; set; }

    /// <summary>Whether <see cref="RawData"/> is compressed: stored data shorter than the message is (a chunk is compressed only when that makes it smaller).</summary>
    public bool RawCompressed => RawData is not null && RawData.LongLength != Size;

    public static string MakeKey(string inbox, long ticks) => $"{inbox}/{ticks:D19}";

    /// <summary>The parsed fields of <paramref name="message"/> (not its id, key or raw message).</summary>
    public static MessageDocument Of(StoredMessage message) => new()
    {
        Size = message.Size,
        Envelope = message.Envelope,
        Subject = message.Subject,
        From = message.From,
        To = message.To,
        Cc = message.Cc,
        Bcc = message.Bcc,
        MessageIdHeader = message.MessageIdHeader,
        Date = message.Date,
        Summary = message.Summary,
        HtmlLinks = message.HtmlLinks,
        HtmlImages = message.HtmlImages,
        HtmlCodes = message.HtmlCodes,
        TextLinks = message.TextLinks,
        TextCodes = message.TextCodes,
        Attachments = message.Attachments,
        ParseError = message.ParseError,
    };

    /// <summary>
    /// The message this copy is: its own id, inbox and time (from <see cref="Key"/>), and the parsed fields
    /// of <paramref name="content"/> when it shares them, its own otherwise.
    /// </summary>
    public StoredMessage ToMessage(MessageDocument? content = null)
    {
        var source = content ?? this;
        var slash = Key.LastIndexOf('/');
        if (slash < 0 || !long.TryParse(Key.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks))
            throw new InvalidDataException($"Message {Id} has a malformed key \"{Key}\".");
        return new StoredMessage
        {
            Id = Id,
            Inbox = Key[..slash],
            ReceivedTicks = ticks,
            Size = source.Size,
            Envelope = source.Envelope,
            Subject = source.Subject,
            From = source.From,
            To = source.To,
            Cc = source.Cc,
            Bcc = source.Bcc,
            MessageIdHeader = source.MessageIdHeader,
            Date = source.Date,
            Summary = source.Summary,
            HtmlLinks = source.HtmlLinks,
            HtmlImages = source.HtmlImages,
            HtmlCodes = source.HtmlCodes,
            TextLinks = source.TextLinks,
            TextCodes = source.TextCodes,
            Attachments = content is null ? Attachments : OwnAttachments(content.Attachments),
            ParseError = source.ParseError,
        };
    }

    private List<StoredAttachment> OwnAttachments(List<StoredAttachment> shared) =>
        shared.Select((a, i) => new StoredAttachment
        {
            Id = i < AttachmentIds.Count ? AttachmentIds[i] : a.Id,
            FileName = a.FileName,
            ContentType = a.ContentType,
            ContentId = a.ContentId,
            Length = a.Length,
            PartIndex = a.PartIndex,
        }).ToList();
}
