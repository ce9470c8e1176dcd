namespace MailSink.Storage;

/// <summary>
/// One message as filed in one inbox: the parsed index of a raw message (the raw bytes, the truth, are
/// stored with it or once per SMTP transaction under <see cref="RawId"/>, and the bodies and headers are read from them). A message sent to several inboxes has one
/// <see cref="StoredMessage"/> per inbox, each with its own id.
/// </summary>
public sealed class StoredMessage
{
    /// <summary>A GUID (version 7, so ids sort by creation time).</summary>
    public string Id { get; set; } = "";

    /// <summary>Not stored in the document: <see cref="Key"/> holds it (see <see cref="RestoreFromKey"/>).</summary>
    [LiteDB.BsonIgnore]
    public string Inbox { get; set; } = "";

    /// <summary>Listing key, <c>inbox/ticks</c> (19 digits): one index serves "newest of one inbox".</summary>
    public string Key { get; set; } = "";

    public static string MakeKey(string inbox, long ticks) => $"{inbox}/{ticks:D19}";

    /// <summary>
    /// When the message was committed, in UTC ticks, strictly increasing across the store. Not stored in
    /// the document either: <see cref="Key"/> holds it.
    /// </summary>
    [LiteDB.BsonIgnore]
    public long ReceivedTicks { get; set; }

    /// <summary>Sets <see cref="Inbox"/> and <see cref="ReceivedTicks"/> from <see cref="Key"/>, as read from the database.</summary>
    internal void RestoreFromKey()
    {
        var slash = Key.LastIndexOf('/');
        if (slash < 0 || !long.TryParse(Key.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ticks))
            throw new InvalidDataException($"Message {Id} has a malformed key \"{Key}\".");
        Inbox = Key[..slash];
        ReceivedTicks = ticks;
    }

    [LiteDB.BsonIgnore]
    public DateTimeOffset Received => new(ReceivedTicks, TimeSpan.Zero);

    /// <summary>Where the raw message is in the <c>raw</c> collection when it is not in <see cref="RawData"/>.</summary>
    public string RawId { get; set; } = "";

    /// <summary>
    /// The raw message itself when it is small (at most <see cref="RawMessage.EmbedBytes"/> as stored), in the
    /// document so that a commit writes one document instead of two; Brotli-compressed when
    /// <see cref="RawCompressed"/>. Null when the raw message is in the <c>raw</c> collection under <see cref="RawId"/>.
    /// </summary>
    public byte[]? RawData { get; set; }

    /// <summary>
    /// Whether <see cref="RawData"/> is Brotli-compressed. Not stored: a chunk is compressed only when that
    /// makes it smaller (<see cref="RawMessage"/>), so stored data shorter than <see cref="Size"/> is compressed
    /// and data of the full size is not. (Documents written before this also hold a <c>RawCompressed</c>
    /// field, which agrees and is ignored.)
    /// </summary>
    [LiteDB.BsonIgnore]
    public bool RawCompressed => RawData is not null && RawData.LongLength != Size;

    /// <summary>
    /// Ids of the copies of this message in other inboxes that share its raw bytes in the <c>raw</c>
    /// collection: the raw message goes with the last of them. Empty when it reached one inbox or has
    /// its raw bytes in <see cref="RawData"/>.
    /// </summary>
    public List<string> Copies { get; set; } = [];

    /// <summary>Raw size in bytes.</summary>
    public long Size { get; set; }

    public StoredEnvelope Envelope { get; set; } = new();

    public string? Subject { get; set; }

    public List<StoredAddress> From { get; set; } = [];

    public List<StoredAddress> To { get; set; } = [];

    public List<StoredAddress> Cc { get; set; } = [];

    /// <summary>Bcc header addresses plus envelope recipients that are in neither To nor Cc.</summary>
    public List<StoredAddress> Bcc { get; set; } = [];

    public string? MessageIdHeader { get; set; }

    public DateTime? Date { get; set; }

    /// <summary>
    /// The plain-text body. Not stored in the document: set at ingest, and on reads by
    /// <see cref="MessageRepository.ReadMessage"/> from the raw message (null on lists and searches, as
    /// are <see cref="Html"/> and <see cref="Headers"/>, which is empty).
    /// </summary>
    [LiteDB.BsonIgnore]
    public string? Text { get; set; }

    /// <summary>The HTML body; stored and read like <see cref="Text"/>.</summary>
    [LiteDB.BsonIgnore]
    public string? Html { get; set; }

    /// <summary>A short plain-text snippet of the body, for listings.</summary>
    public string Summary { get; set; } = "";

    /// <summary>The top-level headers in order. Not stored in the document: read like <see cref="Text"/>.</summary>
    [LiteDB.BsonIgnore]
    public List<StoredHeader> Headers { get; set; } = [];

    /// <summary>Whether <see cref="Text"/>, <see cref="Html"/> and <see cref="Headers"/> were read from the raw message into this object.</summary>
    [LiteDB.BsonIgnore]
    internal bool ContentLoaded { get; set; }

    /// <summary>Links in the HTML body (<c>a</c> and <c>area</c>), found at ingest.</summary>
    public List<StoredLink> HtmlLinks { get; set; } = [];

    public List<StoredImage> HtmlImages { get; set; } = [];

    /// <summary>One-time codes that stand out in the HTML body's text.</summary>
    public List<string> HtmlCodes { get; set; } = [];

    /// <summary>URLs in the plain-text body.</summary>
    public List<StoredLink> TextLinks { get; set; } = [];

    public List<string> TextCodes { get; set; } = [];

    public List<StoredAttachment> Attachments { get; set; } = [];

    /// <summary>Why MIME parsing failed or was partial; the raw message is stored regardless.</summary>
    public string? ParseError { get; set; }
}

/// <summary>The SMTP envelope as stored.</summary>
public sealed class StoredEnvelope
{
    public string MailFrom { get; set; } = "";

    public List<string> RcptTo { get; set; } = [];

    public string? Ehlo { get; set; }

    public string? RemoteAddress { get; set; }

    public string? TlsProtocol { get; set; }

    public string? AuthenticatedUser { get; set; }

    public bool SmtpUtf8 { get; set; }
}

public sealed class StoredAddress
{
    public string Name { get; set; } = "";

    public string Email { get; set; } = "";
}

public sealed class StoredLink
{
    public string Href { get; set; } = "";

    /// <summary>The link's text; null when it has none (an image-only link).</summary>
    public string? Text { get; set; }
}

public sealed class StoredImage
{
    public string Src { get; set; } = "";

    public string? Alt { get; set; }
}

public sealed class StoredHeader
{
    public string Field { get; set; } = "";

    public string Value { get; set; } = "";
}

public sealed class StoredAttachment
{
    /// <summary>Globally unique (a GUID), stable for the life of the message.</summary>
    public string Id { get; set; } = "";

    public string? FileName { get; set; }

    public string ContentType { get; set; } = "application/octet-stream";

    public string? ContentId { get; set; }

    /// <summary>Decoded size in bytes.</summary>
    public long Length { get; set; }

    /// <summary>Position of the part among the message's MIME body parts, to decode it on demand.</summary>
    public int PartIndex { get; set; }
}
