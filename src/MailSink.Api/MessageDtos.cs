namespace MailSink.Api;

// Wire shapes of Mailosaur's public API (camelCase on the wire). Arrays are never null and html, text and
// metadata are always present: Mailosaur's official clients map them without null checks.

public sealed record MessageAddressDto(string Name, string Email);

public sealed record LinkDto(string Href, string? Text);

public sealed record CodeDto(string Value);

public sealed record ImageDto(string Src, string? Alt);

public sealed record HtmlContentDto(string? Body, IReadOnlyList<LinkDto> Links, IReadOnlyList<CodeDto> Codes, IReadOnlyList<ImageDto> Images);

public sealed record TextContentDto(string? Body, IReadOnlyList<LinkDto> Links, IReadOnlyList<CodeDto> Codes);

public sealed record AttachmentDto(string Id, string ContentType, string? FileName, string? ContentId, long Length, string Url);

public sealed record HeaderDto(string Field, string Value);

/// <summary>Mailosaur's metadata plus what MailSink also knows about the SMTP session.</summary>
public sealed record MetadataDto(
    IReadOnlyList<HeaderDto> Headers,
    string? Ehlo,
    string MailFrom,
    IReadOnlyList<MessageAddressDto> RcptTo,
    string? RemoteAddress,
    string? Tls,
    string? AuthenticatedUser,
    string? ParseError);

public sealed record MessageDto(
    string Id,
    string Type,
    string Server,
    DateTimeOffset Received,
    string? Subject,
    IReadOnlyList<MessageAddressDto> From,
    IReadOnlyList<MessageAddressDto> To,
    IReadOnlyList<MessageAddressDto> Cc,
    IReadOnlyList<MessageAddressDto> Bcc,
    HtmlContentDto Html,
    TextContentDto Text,
    IReadOnlyList<AttachmentDto> Attachments,
    MetadataDto Metadata,
    long Size);

public sealed record MessageSummaryDto(
    string Id,
    string Type,
    string Server,
    DateTimeOffset Received,
    string? Subject,
    IReadOnlyList<MessageAddressDto> From,
    IReadOnlyList<MessageAddressDto> To,
    IReadOnlyList<MessageAddressDto> Cc,
    IReadOnlyList<MessageAddressDto> Bcc,
    string Summary,
    int Attachments);

public sealed record ListResultDto<T>(IReadOnlyList<T> Items);
