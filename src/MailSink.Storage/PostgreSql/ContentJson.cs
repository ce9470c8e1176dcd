using System.Text.Json;
using System.Text.Json.Serialization;

namespace MailSink.Storage.PostgreSql;

/// <summary>
/// What a listing, a search and an arrival need of a message (the <c>summary</c> column): subject,
/// addresses, the snippet, and the envelope's sender and recipients (which search matches).
/// </summary>
internal sealed class SummaryJson
{
    public string? Subject { get; set; }

    public List<StoredAddress> From { get; set; } = [];

    public List<StoredAddress> To { get; set; } = [];

    public List<StoredAddress> Cc { get; set; } = [];

    public List<StoredAddress> Bcc { get; set; } = [];

    public string Summary { get; set; } = "";

    public string MailFrom { get; set; } = "";

    public List<string> RcptTo { get; set; } = [];
}

/// <summary>The rest of what was parsed at ingest (the <c>detail</c> column), read only for a whole message.</summary>
internal sealed class DetailJson
{
    public string? Ehlo { get; set; }

    public string? RemoteAddress { get; set; }

    public string? TlsProtocol { get; set; }

    public string? AuthenticatedUser { get; set; }

    public bool SmtpUtf8 { get; set; }

    public string? MessageId { get; set; }

    public DateTime? Date { get; set; }

    public List<StoredLink> HtmlLinks { get; set; } = [];

    public List<StoredImage> HtmlImages { get; set; } = [];

    public List<string> HtmlCodes { get; set; } = [];

    public List<StoredLink> TextLinks { get; set; } = [];

    public List<string> TextCodes { get; set; } = [];

    /// <summary>The attachments without their ids: each copy's own are in <c>messages.attachment_ids</c>, in this order.</summary>
    public List<StoredAttachment> Attachments { get; set; } = [];

    public string? ParseError { get; set; }
}

/// <summary>
/// Source-generated, and without defaults: an empty list, an absent string or a false reads back as it
/// was. Control characters (NUL too) are escaped, so PostgreSQL's text holds every string; a lone surrogate
/// becomes U+FFFD here, as in LiteDB's BSON.
/// </summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(SummaryJson))]
[JsonSerializable(typeof(DetailJson))]
internal sealed partial class ContentJsonContext : JsonSerializerContext;

/// <summary>A message to and from its stored columns.</summary>
internal static class ContentJson
{
    // Characters outside ASCII as they are (UTF-8 in the database), not as six-character escapes.
    private static readonly ContentJsonContext Context = new(new JsonSerializerOptions(ContentJsonContext.Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    public static string Summary(StoredMessage m) => JsonSerializer.Serialize(new SummaryJson
    {
        Subject = m.Subject,
        From = m.From,
        To = m.To,
        Cc = m.Cc,
        Bcc = m.Bcc,
        Summary = m.Summary,
        MailFrom = m.Envelope.MailFrom,
        RcptTo = m.Envelope.RcptTo,
    }, Context.SummaryJson);

    public static string Detail(StoredMessage m) => JsonSerializer.Serialize(new DetailJson
    {
        Ehlo = m.Envelope.Ehlo,
        RemoteAddress = m.Envelope.RemoteAddress,
        TlsProtocol = m.Envelope.TlsProtocol,
        AuthenticatedUser = m.Envelope.AuthenticatedUser,
        SmtpUtf8 = m.Envelope.SmtpUtf8,
        MessageId = m.MessageIdHeader,
        Date = m.Date,
        HtmlLinks = m.HtmlLinks,
        HtmlImages = m.HtmlImages,
        HtmlCodes = m.HtmlCodes,
        TextLinks = m.TextLinks,
        TextCodes = m.TextCodes,
        Attachments = m.Attachments.Select(a => new StoredAttachment
        {
            FileName = a.FileName,
            ContentType = a.ContentType,
            ContentId = a.ContentId,
            Length = a.Length,
            PartIndex = a.PartIndex,
        }).ToList(),
        ParseError = m.ParseError,
    }, Context.DetailJson);

    /// <summary>
    /// A message as a listing shows it: its summary, and one attachment per id (a listing counts them).
    /// <see cref="StoredMessage.ContentLoaded"/> is false; <paramref name="detail"/> adds the rest.
    /// </summary>
    public static StoredMessage Message(string id, string inbox, long received, long size, string[] attachmentIds, string summary, string? detail = null)
    {
        var s = JsonSerializer.Deserialize(summary, Context.SummaryJson)
            ?? throw new InvalidDataException($"Message {id} has an empty summary.");
        var message = new StoredMessage
        {
            Id = id,
            Inbox = inbox,
            ReceivedTicks = received,
            Size = size,
            Subject = s.Subject,
            From = s.From,
            To = s.To,
            Cc = s.Cc,
            Bcc = s.Bcc,
            Summary = s.Summary,
            Envelope = new StoredEnvelope { MailFrom = s.MailFrom, RcptTo = s.RcptTo },
            Attachments = attachmentIds.Select(a => new StoredAttachment { Id = a }).ToList(),
        };
        if (detail is not null)
            AddDetail(message, detail, attachmentIds);
        return message;
    }

    private static void AddDetail(StoredMessage message, string detail, string[] attachmentIds)
    {
        var d = JsonSerializer.Deserialize(detail, Context.DetailJson)
            ?? throw new InvalidDataException($"Message {message.Id} has an empty detail.");
        message.Envelope.Ehlo = d.Ehlo;
        message.Envelope.RemoteAddress = d.RemoteAddress;
        message.Envelope.TlsProtocol = d.TlsProtocol;
        message.Envelope.AuthenticatedUser = d.AuthenticatedUser;
        message.Envelope.SmtpUtf8 = d.SmtpUtf8;
        message.MessageIdHeader = d.MessageId;
        message.Date = d.Date;
        message.HtmlLinks = d.HtmlLinks;
        message.HtmlImages = d.HtmlImages;
        message.HtmlCodes = d.HtmlCodes;
        message.TextLinks = d.TextLinks;
        message.TextCodes = d.TextCodes;
        message.ParseError = d.ParseError;
        if (d.Attachments.Count != attachmentIds.Length)
            throw new InvalidDataException($"Message {message.Id} lists {attachmentIds.Length} attachment ids for {d.Attachments.Count} attachments.");
        for (var i = 0; i < attachmentIds.Length; i++)
            d.Attachments[i].Id = attachmentIds[i];
        message.Attachments = d.Attachments;
    }
}
