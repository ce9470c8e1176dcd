using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using MimeKit.Text;
using MimeKit.Utils;

namespace MailSink.Storage.Mime;

/// <summary>
/// Parses a raw message once, leniently, into the stored shape. Never throws: what cannot be parsed is
/// recorded in <see cref="StoredMessage.ParseError"/> and the raw bytes remain the truth.
/// </summary>
public static partial class MessageParser
{
    /// <summary>Bodies larger than this (in characters) are cut in the API's view; the raw message keeps them.</summary>
    internal const int MaxBodyChars = 4 * 1024 * 1024;

    private const int MaxHeaderValueChars = 64 * 1024;
    private const int MaxHeaders = 2000;
    private const int SummaryChars = 200;

    internal static readonly ParserOptions Options = CreateOptions();

    /// <summary>
    /// .NET knows only Unicode, ASCII and Latin-1 until the code-page encodings are registered; AngleSharp
    /// registers them the first time it parses HTML, and MimeKit remembers a charset it failed to find. Without
    /// this, windows-1252, KOI8-R or Shift_JIS mail received before any HTML mail decoded wrongly (0x80 as
    /// U+0080, not €) for the life of the process.
    /// </summary>
    static MessageParser() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    [ThreadStatic]
    private static MimeParser? _threadParser;
    private static readonly FormatOptions WireFormat = CreateWireFormat();

    public static StoredMessage Parse(ReadOnlyMemory<byte> raw, SmtpEnvelope envelope)
    {
        var message = new StoredMessage
        {
            Size = raw.Length,
            Envelope = new StoredEnvelope
            {
                MailFrom = envelope.MailFrom,
                RcptTo = [.. envelope.RcptTo],
                Ehlo = envelope.Ehlo,
                RemoteAddress = envelope.RemoteAddress,
                TlsProtocol = envelope.TlsProtocol,
                AuthenticatedUser = envelope.AuthenticatedUser,
                SmtpUtf8 = envelope.SmtpUtf8,
            },
        };

        if (raw.IsEmpty)
        {
            message.ParseError = "The message is empty.";
            FillFromEnvelope(message, envelope);
            return message;
        }

        if (!TryLoad(raw, out var mime, out var cutFields, out var strayLine, out var loadError))
        {
            message.ParseError = $"MIME parse failed: {loadError}";
            FillFromEnvelope(message, envelope);
            message.Text = UnparsedText(raw);
            message.Summary = MakeSummary(message.Text, null);
            return message;
        }

        Fill(message, mime, envelope);
        if (strayLine is not null)
            AddProblem(message, $"The header section has no blank line before the body: the body was taken to start at the line '{strayLine}', which is not a header field.");
        if (cutFields.Count > 0)
            AddProblem(message, $"Header fields over {HeaderSection.MaxFieldBytes} bytes were cut in the parsed view (the raw message is whole): {string.Join(", ", cutFields)}.");

        return message;
    }

    /// <summary>
    /// Every header of the top-level header block, in order. MimeKit keeps the Content-* headers on the
    /// body rather than on the message; both lists know each header's offset in the stream, which gives
    /// back the order as received without parsing the header block again.
    /// </summary>
    private static IEnumerable<Header> TopLevelHeaders(MimeMessage mime)
    {
        if (mime.Body is null || mime.Body.Headers.Count == 0)
            return mime.Headers;
        return mime.Headers.Concat(mime.Body.Headers)
            .OrderBy(h => h.Offset ?? long.MaxValue);
    }

    /// <summary>The top-level headers as stored: in order, at most <see cref="MaxHeaders"/>, each value capped.</summary>
    private static List<StoredHeader> Headers(MimeMessage mime, List<string> problems) =>
        TopLevelHeaders(mime)
            .Take(MaxHeaders)
            .Select(header => new StoredHeader { Field = header.Field, Value = Cap(Safe(() => header.Value, problems, "header value") ?? "", MaxHeaderValueChars) })
            .ToList();

    private static void Fill(StoredMessage message, MimeMessage mime, SmtpEnvelope envelope)
    {
        var problems = new List<string>();
        message.Headers = Headers(mime, problems);

        if (mime.Headers.Count == 0)
            problems.Add("The message has no header section.");

        message.Subject = mime.Subject;
        message.MessageIdHeader = mime.MessageId;
        // MimeKit reports an unparseable Date as DateTimeOffset.MinValue: that is no date, not year 1.
        if (mime.Headers[HeaderId.Date] is { } date && DateUtils.TryParse(date, out var parsedDate))
            message.Date = parsedDate.UtcDateTime;

        message.From = Addresses(mime.From);
        if (message.From.Count == 0 && envelope.MailFrom.Length > 0)
            message.From.Add(new StoredAddress { Email = envelope.MailFrom }); // a hand-typed message often has no From header
        message.To = Addresses(mime.To);
        message.Cc = Addresses(mime.Cc);
        message.Bcc = Addresses(mime.Bcc);

        // Envelope-only recipients are blind copies. A domain in Unicode and in punycode is one domain.
        var visible = new HashSet<string>(
            message.To.Concat(message.Cc).Concat(message.Bcc).Select(a => SameAddress(a.Email)),
            StringComparer.OrdinalIgnoreCase);
        foreach (var rcpt in envelope.RcptTo)
        {
            if (visible.Add(SameAddress(rcpt)))
                message.Bcc.Add(new StoredAddress { Email = rcpt });
        }

        var decoded = new Dictionary<TextPart, string>();
        var (text, html) = Bodies(mime, problems, decoded);
        message.Text = text is null ? null : Cap(text, MaxBodyChars);
        message.Html = html is null ? null : Cap(html, MaxBodyChars);
        message.Summary = MakeSummary(message.Text, message.Html);

        var index = 0;
        bool textTaken = false, htmlTaken = false;
        foreach (var part in mime.BodyParts)
        {
            var partIndex = index++;
            // The parts that are the text and HTML bodies are not attachments; any other part is, so that
            // nothing is lost: a second text part (Apple Mail's text, image, text), an attached message
            // (message/rfc822, a forward as attachment), an inline notes.txt.
            if (part is MimePart mimePart && IsBodyText(mimePart, text, html, decoded, ref textTaken, ref htmlTaken))
                continue;
            if (part is not MimePart and not MessagePart)
                continue;

            message.Attachments.Add(new StoredAttachment
            {
                Id = TimeOrderedId.NewVersion7().ToString(),
                FileName = FileName(part),
                ContentType = part.ContentType.MimeType,
                ContentId = part.ContentId,
                Length = AttachmentLength(part, problems),
                PartIndex = partIndex,
            });
        }

        if (problems.Count > 0)
            message.ParseError = string.Join(" ", problems);
    }

    /// <summary>An address with its domain as routing spells it (punycode), for comparing two spellings; ASCII ones as they are.</summary>
    private static string SameAddress(string email)
    {
        var at = email.LastIndexOf('@');
        return at < 0 || System.Text.Ascii.IsValid(email.AsSpan(at)) ? email : $"{email[..at]}@{Ingest.InboxRouter.NormalizeDomain(email[(at + 1)..])}";
    }

    private static void AddProblem(StoredMessage message, string problem) =>
        message.ParseError = message.ParseError is null ? problem : $"{message.ParseError} {problem}";

    /// <summary>Without parsed headers, the envelope is all there is: sender as From, recipients as Bcc.</summary>
    private static void FillFromEnvelope(StoredMessage message, SmtpEnvelope envelope)
    {
        if (envelope.MailFrom.Length > 0)
            message.From.Add(new StoredAddress { Email = envelope.MailFrom });
        message.Bcc = envelope.RcptTo.Select(r => new StoredAddress { Email = r }).ToList();
    }

    /// <summary>Whether this part is the one MimeKit took as the text or the HTML body (the first that matches).</summary>
    private static bool IsBodyText(MimePart part, string? textBody, string? htmlBody, Dictionary<TextPart, string> decoded, ref bool textTaken, ref bool htmlTaken)
    {
        if (part is not TextPart text || part.IsAttachment)
            return false;
        if (text.IsPlain && !textTaken && textBody is not null && SafeText(text, decoded) == textBody)
            return textTaken = true;
        if (text.IsHtml && !htmlTaken && htmlBody is not null && SafeText(text, decoded) == htmlBody)
            return htmlTaken = true;
        return false;
    }

    private static string? SafeText(TextPart part, Dictionary<TextPart, string> decoded)
    {
        if (decoded.TryGetValue(part, out var known))
            return known;
        try
        {
            return TextPartDecoder.GetText(part);
        }
        catch (Exception ex) when (ex is FormatException or NotSupportedException or ArgumentException or DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>
    /// The part's file name; failing that its Content-ID without angle brackets (an inline image in
    /// multipart/related often has nothing else, and Mailosaur names it so); failing that null.
    /// </summary>
    private static string? FileName(MimeEntity part) =>
        (part is MimePart mimePart ? mimePart.FileName : part.ContentDisposition?.FileName ?? part.ContentType.Name)
        ?? (string.IsNullOrEmpty(part.ContentId) ? null : part.ContentId);

    private static long AttachmentLength(MimeEntity part, List<string> problems)
    {
        try
        {
            switch (part)
            {
                case MimePart { Content: { } content }:
                    return DecodedLength.Of(content);
                case MessagePart { Message: { } attached }:
                    using (var counter = new CountingStream())
                    {
                        attached.WriteTo(WireFormat, counter); // CRLF, as received, not the platform's LF
                        return counter.Length;
                    }

                default:
                    return 0;
            }
        }
        catch (Exception ex) when (ex is FormatException or IOException or InvalidOperationException)
        {
            problems.Add($"Attachment '{FileName(part)}' could not be decoded: {ex.Message}");
            return 0;
        }
    }

    private static List<StoredAddress> Addresses(InternetAddressList list) =>
        list.Mailboxes.Select(m => new StoredAddress { Name = m.Name ?? "", Email = m.Address ?? "" }).ToList();

    private static string? Safe(Func<string?> read, List<string> problems, string what)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is FormatException or ParseException or NotSupportedException or ArgumentException or DecoderFallbackException)
        {
            problems.Add($"The {what} could not be decoded: {ex.Message}");
            return null;
        }
    }

    /// <summary>At most <paramref name="max"/> characters, never half of a surrogate pair (an emoji).</summary>
    private static string Cap(string value, int max) =>
        value.Length <= max ? value : value[..CappedLength(value, max)];

    private static int CappedLength(ReadOnlySpan<char> value, int max) =>
        value.Length <= max ? value.Length : char.IsHighSurrogate(value[max - 1]) ? max - 1 : max;

    /// <summary>
    /// The first 4,096 characters of the text (or of the HTML without tags), each run of white space (as
    /// <c>\s</c> means it: <see cref="char.IsWhiteSpace(char)"/>) as one space, trimmed, and cut to 200
    /// characters with an ellipsis. Collapsing stops at the 201st character, which says that the cut is
    /// needed: nothing after it can change the first 200.
    /// </summary>
    internal static string MakeSummary(string? text, string? html)
    {
        var source = !string.IsNullOrWhiteSpace(text)
            ? text
            : html is null ? "" : WebUtility.HtmlDecode(TagOrScript().Replace(Cap(html, 64 * 1024), " "));

        Span<char> collapsed = stackalloc char[SummaryChars + 1];
        var length = 0;
        var space = false;
        foreach (var c in source.AsSpan(0, CappedLength(source, 4096)))
        {
            if (char.IsWhiteSpace(c))
            {
                space = length > 0;
                continue;
            }

            if (space)
            {
                if (length > SummaryChars)
                    break;
                collapsed[length++] = ' ';
            }

            space = false;
            if (length > SummaryChars)
                break;
            collapsed[length++] = c;
        }

        return length <= SummaryChars
            ? new string(collapsed[..length])
            : string.Concat(collapsed[..CappedLength(collapsed, SummaryChars)].TrimEnd(), "…");
    }

    private static ParserOptions CreateOptions()
    {
        var options = ParserOptions.Default.Clone();
        options.AllowUnquotedCommasInAddresses = true;
        options.AllowAddressesWithoutDomain = true;
        options.AddressParserComplianceMode = RfcComplianceMode.Looser;
        options.ParameterComplianceMode = RfcComplianceMode.Looser;
        options.MaxAddressGroupDepth = 3;
        return options;
    }

    private static FormatOptions CreateWireFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }

    // Comments (Outlook's <!--[if mso]> copies), titles, scripts and styles are not text to show. One left
    // open hides the rest, as in a browser; that also keeps this linear (a failed search for the end of
    // each of many unclosed "<style>"s took seconds for 64 KB).
    [GeneratedRegex(
        @"<!--(?:.*?-->|.*)|<(title|script|style)\b[^<>]*>(?:.*?</\1\s*>|.*)|<[^<>]*>",
        RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex TagOrScript();
}
