using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using MimeKit.Text;
using MimeKit.Utils;

namespace MailSink.Storage.Mime;

/// <summary>Reading a stored message again: its bodies and headers for a full read, and its parts for downloads.</summary>
public static partial class MessageParser
{
    /// <summary>
    /// The text and HTML bodies and the headers of a raw message, exactly as <see cref="Parse"/> gives them
    /// at ingest. The stored document keeps neither (they would store most of a message twice); a read of
    /// one message takes them from the raw bytes, which costs a MIME parse (tens of microseconds for 2 KB).
    /// </summary>
    public static MessageContent ReadContent(ReadOnlyMemory<byte> raw)
    {
        if (raw.IsEmpty)
            return new MessageContent(null, null, []);
        if (!TryLoad(raw, out var mime, out _, out _, out _))
            return new MessageContent(UnparsedText(raw), null, []);
        var (text, html) = Bodies(mime, []);
        return new MessageContent(
            text is null ? null : Cap(text, MaxBodyChars),
            html is null ? null : Cap(html, MaxBodyChars),
            Headers(mime, []));
    }

    private static bool TryLoad(ReadOnlyMemory<byte> raw, [NotNullWhen(true)] out MimeMessage? mime, out List<string> cutFields, out string? strayLine, out string? error)
    {
        var parsed = HeaderSection.ForParser(raw, out cutFields, out strayLine);
        try
        {
            mime = Load(parsed);
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ParseException or InvalidOperationException or ArgumentException)
        {
            mime = null;
            error = ex.Message;
            return false;
        }
    }

    /// <summary>No header section, as in a hand-typed "DATA / hello / .": the whole message is its text.</summary>
    private static string UnparsedText(ReadOnlyMemory<byte> raw) =>
        Cap(Encoding.UTF8.GetString(raw.Span).Replace("\r\n", "\n", StringComparison.Ordinal), MaxBodyChars);

    /// <summary>
    /// What <see cref="MimeMessage.TextBody"/> and <see cref="MimeMessage.HtmlBody"/> give, each part decoded
    /// once (<see cref="TextPartDecoder"/>); the decoded parts go into <paramref name="decoded"/> so that
    /// <see cref="IsBodyText"/> need not decode them again.
    /// </summary>
    private static (string? Text, string? Html) Bodies(MimeMessage mime, List<string> problems, Dictionary<TextPart, string>? decoded = null)
    {
        var text = Safe(() => Body(mime, TextFormat.Plain, decoded), problems, "text body");
        var html = Safe(() => Body(mime, TextFormat.Html, decoded), problems, "HTML body");
        foreach (var empty in EmptyMultiparts(mime.Body))
        {
            // No part could be found (no boundary parameter, or no line with the boundary): what the body
            // holds is all MimeKit kept, as the multipart's preamble. Shown as the text rather than lost.
            var type = empty.ContentType.MimeType;
            var shown = text is null && html is null && !string.IsNullOrWhiteSpace(empty.Preamble);
            var what = shown ? "its content is shown as text" : "it holds no part";
            problems.Add(string.IsNullOrEmpty(empty.Boundary)
                ? $"A {type} body has no boundary parameter, so its parts cannot be told apart: {what}."
                : $"A {type} body has no part that starts with its boundary '{QuotedText.Printable(empty.Boundary, 70)}': {what}.");
            if (shown)
                text = empty.Preamble!.Replace("\r\n", "\n", StringComparison.Ordinal);
        }

        return (text, html);
    }

    /// <summary>Every multipart in the body, at any depth, in which MimeKit found no part.</summary>
    private static IEnumerable<Multipart> EmptyMultiparts(MimeEntity? entity)
    {
        if (entity is not Multipart multipart)
            yield break;
        if (multipart.Count == 0)
            yield return multipart;
        foreach (var child in multipart)
        {
            foreach (var empty in EmptyMultiparts(child))
                yield return empty;
        }
    }

    /// <summary>The part chosen as <see cref="MimeMessage.GetTextBody"/> chooses it, and its text.</summary>
    private static string? Body(MimeMessage mime, TextFormat format, Dictionary<TextPart, string>? decoded)
    {
        var part = mime.Body switch
        {
            Multipart multipart => multipart.TryGetValue(format, out var body) ? body : null,
            TextPart single when (format == TextFormat.Html ? single.IsHtml : single.IsPlain) && !single.IsAttachment => single,
            _ => null,
        };
        if (part is null)
            return null;
        if (part.IsFlowed)
            return mime.GetTextBody(format); // MimeKit unwraps format=flowed text itself; rare, so decoded as before

        var text = TextPartDecoder.GetText(part);
        if (decoded is not null)
            decoded[part] = text;
        return text;
    }

    /// <summary>
    /// The n-th body part, in the order <see cref="StoredAttachment.PartIndex"/> counts them. Its content is read
    /// from <paramref name="raw"/>, which must stay unchanged while the part is used.
    /// </summary>
    /// <remarks>
    /// A message stored before MailSink ended a header section at its first stray line had its parts counted
    /// without that: when the part found is not of <paramref name="contentType"/>, the one counted so is.
    /// </remarks>
    public static MimeEntity? FindPart(ReadOnlyMemory<byte> raw, int partIndex, string? contentType = null)
    {
        var part = Load(HeaderSection.ForParser(raw, out _, out var stray)).BodyParts.ElementAtOrDefault(partIndex);
        if (stray is null || contentType is null || string.Equals(part?.ContentType.MimeType, contentType, StringComparison.OrdinalIgnoreCase))
            return part;
        var before = Load(HeaderSection.ForParser(raw, out _, out _, endAtStrayLine: false)).BodyParts.ElementAtOrDefault(partIndex);
        return string.Equals(before?.ContentType.MimeType, contentType, StringComparison.OrdinalIgnoreCase) ? before : part;
    }

    /// <summary>
    /// The message as the API's forward and reply read it: parsed as <see cref="Parse"/> parses it (its header
    /// section ended at a stray line, long fields cut). Its parts read <paramref name="raw"/>, which must stay unchanged.
    /// </summary>
    public static MimeMessage LoadForReply(byte[] raw) => Load(HeaderSection.ForParser(raw, out _, out _));

    /// <summary>
    /// A persistent parse: each part's content is a window on <paramref name="bytes"/> rather than MimeKit's
    /// copy of it (a 25 MB message was held twice while it was parsed, and copying was a third of the parse).
    /// The stream over the bytes holds nothing to release, so it is left open for as long as the message or
    /// a part of it is used. The bytes must not change meanwhile: <see cref="Parse"/> and
    /// <see cref="ReadContent"/> are done with the message before they return; the part that
    /// <see cref="FindPart"/> returns reads the caller's bytes when it is written out.
    /// </summary>
    private static MimeMessage Load(ReadOnlyMemory<byte> bytes)
    {
        // What MimeMessage.Load does, with the thread's parser instead of a new one each time: building a
        // parser (its buffers) took 4-10 µs, a third of the MIME parse of a 2 KB message. SetStream resets
        // every bit of its state; afterwards it lets go of the bytes. Parsing never calls back into MailSink,
        // so a thread's parser is never in use twice at once.
        var parser = _threadParser ??= new MimeParser(Options, Stream.Null, MimeFormat.Entity, persistent: true);
        try
        {
            parser.SetStream(new ReadOnlyMemoryStream(bytes), MimeFormat.Entity, persistent: true);
            return parser.ParseMessage();
        }
        finally
        {
            parser.SetStream(Stream.Null, MimeFormat.Entity, persistent: true);
        }
    }

    /// <summary>An attachment's bytes as a download gives them: decoded content, or an attached message as received.</summary>
    public static void WriteAttachment(MimeEntity part, Stream destination)
    {
        switch (part)
        {
            case MimePart { Content: { } content }:
                content.DecodeTo(destination);
                break;
            case MessagePart { Message: { } attached }:
                attached.WriteTo(WireFormat, destination);
                break;
        }
    }
}

/// <summary>What a full read of a message takes from its raw bytes (see <see cref="MessageParser.ReadContent"/>).</summary>
public sealed record MessageContent(string? Text, string? Html, List<StoredHeader> Headers);
