using System.Text;
using MailSink.Storage;
using MimeKit;

namespace MailSink.Tests.Unit;

/// <summary>The parser's text decoding gives <see cref="TextPart.Text"/> exactly, including where MimeKit is peculiar.</summary>
public sealed class TextPartDecoderTests
{
    // AngleSharp registers the code-page encodings when it is first used (MimeDecodingDifferentialTests says why
    // this matters); registered here, the cases below do not depend on which test ran first.
    static TextPartDecoderTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static TheoryData<string, string, string, byte[]> Parts => new()
    {
        { "plain ASCII with CRLF", "text/plain", "", "one\r\ntwo\r\n"u8.ToArray() },
        { "no line end at all", "text/plain; charset=utf-8", "", "just text"u8.ToArray() },
        { "empty", "text/plain", "", [] },
        { "a lone CR stays, a CR before LF and a CR at the end go", "text/plain", "", "a\rb\r\r\nc\r"u8.ToArray() },
        { "only CRs", "text/plain", "", "\r\r\r"u8.ToArray() },
        { "UTF-8 cut in the middle of a character at the end is dropped", "text/plain; charset=utf-8", "8bit", [.. "caf"u8, 0xC3] },
        { "invalid UTF-8 falls back to ISO-8859-1", "text/plain", "8bit", [.. "bad "u8, 0xC3, 0x28, 0xFF, (byte)'\r', (byte)'\n'] },
        { "invalid bytes in a declared UTF-8", "text/plain; charset=utf-8", "8bit", [0xFF, 0xFE, (byte)'x'] },
        { "UTF-16 with an odd byte at the end", "text/plain; charset=utf-16le", "", [(byte)'h', 0, (byte)'i', 0, (byte)'\r', 0, (byte)'\n', 0, 0x41] },
        { "UTF-16 byte order mark and no charset", "text/plain", "", [0xFF, 0xFE, (byte)'h', 0, (byte)'\r', 0, (byte)'\n', 0] },
        { "UTF-8 byte order mark", "text/plain", "", [0xEF, 0xBB, 0xBF, (byte)'x'] },
        { "UTF-7 that decodes to a lone surrogate", "text/plain; charset=utf-7", "", "a +2D3- b"u8.ToArray() },
        { "UTF-7 with a lone surrogate at the very end", "text/plain; charset=utf-7", "", "a +2D3-"u8.ToArray() },
        { "a surrogate pair", "text/plain; charset=utf-8", "8bit", Encoding.UTF8.GetBytes("party \ud83c\udf89\r\n") },
        { "Latin-1", "text/plain; charset=iso-8859-1", "8bit", [(byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'\r', (byte)'\n'] },
        { "an unknown charset", "text/plain; charset=x-no-such-thing", "8bit", "caf\u00e9"u8.ToArray() },
        { "ISO-2022-JP", "text/plain; charset=iso-2022-jp", "7bit", [0x1B, (byte)'$', (byte)'B', 0x46, 0x7C, 0x4B, 0x5C, 0x1B, (byte)'(', (byte)'B'] },
        { "quoted-printable with a soft break", "text/plain; charset=utf-8", "quoted-printable", "caf=C3=A9 =\r\nsoft=0D=0A"u8.ToArray() },
        { "base64", "text/html; charset=utf-8", "base64", Encoding.ASCII.GetBytes(Convert.ToBase64String(Encoding.UTF8.GetBytes("<p>caf\u00e9</p>\r\n"))) },
        { "HTML whose charset is in a meta element", "text/html", "8bit", [.. "<html><head><meta charset=\"iso-8859-1\"></head><body>"u8, 0xE9, .. "</body></html>"u8] },
    };

    [Theory]
    [MemberData(nameof(Parts))]
    public void Text_is_what_MimeKit_gives(string why, string contentType, string transferEncoding, byte[] content)
    {
        foreach (var persistent in new[] { false, true })
        {
            var part = Part(contentType, transferEncoding, content, persistent);

            Assert.True(Outcome(() => part.Text) == Outcome(() => TextPartDecoder.GetText(part)), why);
        }
    }

    [Fact]
    public void A_body_larger_than_the_pooled_buffers_is_decoded_the_same()
    {
        var text = new StringBuilder();
        for (var line = 0; text.Length < 3 * 1024 * 1024; line++)
            text.Append("line ").Append(line).Append(" caf\u00e9 \ud83c\udf89\r\n");
        var part = Part("text/plain; charset=utf-8", "8bit", Encoding.UTF8.GetBytes(text.ToString()), persistent: true);

        Assert.Equal(part.Text, TextPartDecoder.GetText(part));
    }

    private static TextPart Part(string contentType, string transferEncoding, byte[] content, bool persistent)
    {
        var head = $"Content-Type: {contentType}\r\n" + (transferEncoding.Length > 0 ? $"Content-Transfer-Encoding: {transferEncoding}\r\n" : "") + "\r\n";
        var raw = Encoding.ASCII.GetBytes(head).Concat(content).ToArray();
        return Assert.IsType<TextPart>(MimeEntity.Load(new MemoryStream(raw, writable: false), persistent), exactMatch: false);
    }

    private static string Outcome(Func<string> read)
    {
        try
        {
            return "ok:" + read();
        }
        catch (Exception ex)
        {
            return $"{ex.GetType().Name}:{ex.Message}";
        }
    }
}
