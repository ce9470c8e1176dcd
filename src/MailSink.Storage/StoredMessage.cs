namespace MailSink.Storage;

/// <summary>
/// One message as filed in one inbox, as every storage engine gives it out: what was parsed from its raw
/// message at ingest (addresses, subject, links, codes, attachments), its envelope, and, when read in
/// full, its bodies and headers (read again from the raw message, which is the truth). A message sent to
/// several inboxes is one <see cref="StoredMessage"/> per inbox, each with its own id.
/// </summary>
public sealed class StoredMessage
{
    /// <summary>A GUID (version 7, so ids sort by creation time).</summary>
    public string Id { get; set; } = "";

    public string Inbox { get; set; } = "";

    /// <summary>When the message was committed, in UTC ticks, strictly increasing across the store.</summary>
    public long ReceivedTicks { get; set; }

    public DateTimeOffset Received => new(ReceivedTicks, TimeSpan.Zero);

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
    /// The plain-text body: set at ingest, and when a message is read in full, from its raw message (null
    /// on lists and searches, as are <see cref="Html"/> and <see cref="Headers"/>, which is empty).
    /// </summary>
    public string? Text { get; set; }

    /// <summary>The HTML body; set like <see cref="Text"/>.</summary>
    public string? Html { get; set; }

    /// <summary>A short plain-text snippet of the body, for listings.</summary>
    public string Summary { get; set; } = "";

    /// <summary>The top-level headers in order; set like <see cref="Text"/>.</summary>
    public List<StoredHeader> Headers { get; set; } = [];

    /// <summary>Whether <see cref="Text"/>, <see cref="Html"/> and <see cref="Headers"/> are set (at ingest, or read from the raw message).</summary>
    public bool ContentLoaded { get; set; }

    /// <summary>Sets the bodies and headers read from the raw message.</summary>
    public void SetContent(Mime.MessageContent content)
    {
        (Text, Html, Headers) = (content.Text, content.Html, content.Headers);
        ContentLoaded = true;
    }

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
