using MailSink.Storage;

namespace MailSink.Api;

/// <summary>Stored documents to wire DTOs.</summary>
internal static class MessageMapping
{
    public static MessageSummaryDto ToSummaryDto(this StoredMessage m) => new(
        m.Id, "Email", m.Inbox, m.Received, m.Subject,
        m.From.ToDtos(), m.To.ToDtos(), m.Cc.ToDtos(), m.Bcc.ToDtos(),
        m.Summary, m.Attachments.Count);

    public static MessageDto ToDto(this StoredMessage m, string baseUrl) => new(
        m.Id, "Email", m.Inbox, m.Received, m.Subject,
        m.From.ToDtos(), m.To.ToDtos(), m.Cc.ToDtos(), m.Bcc.ToDtos(),
        new HtmlContentDto(
            m.Html,
            m.HtmlLinks.Select(l => new LinkDto(l.Href, l.Text)).ToList(),
            m.HtmlCodes.Select(c => new CodeDto(c)).ToList(),
            m.HtmlImages.Select(i => new ImageDto(i.Src, i.Alt)).ToList()),
        new TextContentDto(
            m.Text,
            m.TextLinks.Select(l => new LinkDto(l.Href, l.Text)).ToList(),
            m.TextCodes.Select(c => new CodeDto(c)).ToList()),
        m.Attachments.Select(a => new AttachmentDto(
            a.Id, a.ContentType, a.FileName, a.ContentId, a.Length, $"{baseUrl}/api/files/attachments/{a.Id}")).ToList(),
        new MetadataDto(
            m.Headers.Select(h => new HeaderDto(h.Field, h.Value)).ToList(),
            m.Envelope.Ehlo,
            m.Envelope.MailFrom,
            m.Envelope.RcptTo.Select(r => new MessageAddressDto("", r)).ToList(),
            m.Envelope.RemoteAddress,
            m.Envelope.TlsProtocol,
            m.Envelope.AuthenticatedUser,
            m.ParseError),
        m.Size);

    private static List<MessageAddressDto> ToDtos(this List<StoredAddress> addresses) =>
        addresses.Select(a => new MessageAddressDto(a.Name, a.Email)).ToList();
}
