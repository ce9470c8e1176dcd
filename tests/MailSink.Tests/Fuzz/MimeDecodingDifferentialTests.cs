using System.Text;
using MailSink.Storage;
using MimeKit;

namespace MailSink.Tests.Fuzz;

/// <summary>
/// The parser's own decoding against MimeKit's, on random and broken MIME: <see cref="TextPartDecoder"/>
/// must give <see cref="TextPart.Text"/> (or fail as it fails), <see cref="DecodedLength"/> the number of
/// bytes <see cref="IMimeContent.DecodeTo"/> writes, and <see cref="MessageParser.ReadContent"/> (a persistent
/// parse that decodes each body once) what <see cref="MimeMessage.TextBody"/> and
/// <see cref="MimeMessage.HtmlBody"/> give on an ordinary parse. Charsets, transfer encodings and bytes are
/// drawn from what breaks decoders: invalid and truncated sequences, byte order marks, lone CRs, unpaired
/// surrogates (UTF-7 makes them), padding in the middle of base64, junk between base64 characters.
/// </summary>
public sealed class MimeDecodingDifferentialTests(ITestOutputHelper output)
{
    private static readonly string[] Charsets =
    [
        "", "utf-8", "UTF-8", "us-ascii", "iso-8859-1", "windows-1252", "utf-16", "utf-16le", "utf-16be", "utf-32", "utf-7",
        "iso-2022-jp", "shift_jis", "euc-kr", "gb18030", "koi8-r", "x-unknown", "\"utf-8\"",
    ];

    private static readonly string[] TransferEncodings = ["", "7bit", "8bit", "binary", "quoted-printable", "base64", "x-uuencode", "bogus"];

    private static readonly string[] TextTypes = ["text/plain", "text/plain", "text/html", "text/plain; format=flowed", "text/enriched"];

    private static readonly string[] Pieces =
    [
        "Hello", " ", "\r\n", "\r\n", "\n", "\r", "\r\r\n", "caf\u00e9", "\u65e5\u672c", "\ud83c\udf89", "=", "=3D", "=\r\n", "\t",
        "+AGEA-", "+2D3-", "\u001b$B", "code 482913", "<p>x</p>", "<meta charset=\"iso-8859-1\">", "\ufeff",
    ];

    // Which charsets .NET knows changes while the process runs: AngleSharp registers the code-page encodings
    // (windows-1252, ISO-2022-JP, KOI8-R...) the first time it is used, in the server and here alike. Both sides of
    // a comparison must see the same set, whichever test runs first, so they are registered before any.
    static MimeDecodingDifferentialTests() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    private static readonly byte[] Base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"u8.ToArray();
    private static readonly byte[] Base64Odd = "=\r\n \t!*-.\0\u00ff"u8.ToArray();

    [Fact]
    public Task Parsing_decodes_as_MimeKit_decodes() =>
        FuzzRun.RunAsync("mime-decoding", output, input =>
        {
            var random = input.Random;
            var raw = input.Literal is { } literal ? Encoding.Latin1.GetBytes(literal) : Message(random);
            input.Record(Encoding.Latin1.GetString(raw));
            return Task.FromResult(Compare(raw));
        });

    /// <summary>Every text part, every part's decoded length and both bodies; the behaviours seen.</summary>
    internal static IEnumerable<string> Compare(byte[] raw)
    {
        var seen = new List<string>();
        foreach (var persistent in new[] { false, true })
        {
            MimeMessage mime;
            try
            {
                mime = MimeMessage.Load(MessageParser.Options, new MemoryStream(raw, writable: false), persistent);
            }
            catch (Exception ex) when (ex is FormatException or ParseException or InvalidOperationException or ArgumentException)
            {
                return ["unparseable"]; // the parser records the error and keeps the raw text
            }

            foreach (var part in mime.BodyParts.OfType<MimePart>())
            {
                if (part is TextPart text)
                {
                    var expected = Outcome(() => text.Text);
                    var actual = Outcome(() => TextPartDecoder.GetText(text));
                    if (actual != expected)
                        throw new FuzzFinding("text differs", $"{part.ContentType}, {part.ContentTransferEncoding}: MimeKit {FuzzRun.Show(expected)}, ours {FuzzRun.Show(actual)}");
                    seen.Add($"text {part.ContentType.Charset?.ToLowerInvariant()} {part.ContentTransferEncoding} {expected.Split(':')[0]}");
                }

                if (part.Content is { } content)
                {
                    var expected = Outcome(() => DecodedByMimeKit(content).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    var actual = Outcome(() => DecodedLength.Of(content).ToString(System.Globalization.CultureInfo.InvariantCulture));
                    if (actual != expected)
                        throw new FuzzFinding("decoded length differs", $"{part.ContentType}, {content.Encoding}: MimeKit {expected}, ours {actual}");
                    seen.Add($"length {content.Encoding}");
                }
            }
        }

        var ordinary = MimeMessage.Load(MessageParser.Options, new MemoryStream(raw, writable: false));
        var bodies = (Body(() => ordinary.TextBody), Body(() => ordinary.HtmlBody));
        var read = MessageParser.ReadContent(raw);
        if ((read.Text, read.Html) != bodies)
            throw new FuzzFinding("bodies differ", $"MimeKit gives text {FuzzRun.Show(bodies.Item1 ?? "(null)")}, HTML {FuzzRun.Show(bodies.Item2 ?? "(null)")}");
        return seen;
    }

    private static long DecodedByMimeKit(IMimeContent content)
    {
        using var counter = new CountingStream();
        content.DecodeTo(counter);
        return counter.Length;
    }

    /// <summary>A body as the parser records it: null when it cannot be decoded, cut at the cap.</summary>
    private static string? Body(Func<string?> read)
    {
        try
        {
            var body = read();
            return body is null || body.Length <= MessageParser.MaxBodyChars ? body : body[..MessageParser.MaxBodyChars];
        }
        catch (Exception ex) when (ex is FormatException or ParseException or NotSupportedException or ArgumentException)
        {
            return null;
        }
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

    internal static byte[] Message(Random random)
    {
        var message = new List<byte>();
        message.AddRange("From: a@example.com\r\nSubject: s\r\nMIME-Version: 1.0\r\n"u8);
        message.AddRange(Entity(random, 0));
        return [.. message];
    }

    private static byte[] Entity(Random random, int depth)
    {
        var roll = random.Next(10);
        if (depth > 2 || roll < 4)
            return TextPart(random);
        if (roll < 6)
            return Base64Part(random);
        if (roll == 6)
            return [.. "Content-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\n"u8, .. Content(random)];

        var boundary = $"b{random.Next(1000)}";
        var children = Enumerable.Range(0, random.Next(4)).Select(_ => Entity(random, depth + 1)).ToList();
        if (children.Count > 0 && random.Next(5) == 0)
            children.Add(children[0]); // the same text twice: which one is the body
        var multipart = new List<byte>();
        multipart.AddRange(Encoding.ASCII.GetBytes($"Content-Type: multipart/{(random.Next(2) == 0 ? "alternative" : "mixed")}; boundary={boundary}\r\n\r\n"));
        foreach (var child in children)
            multipart.AddRange([.. Encoding.ASCII.GetBytes($"--{boundary}\r\n"), .. child, (byte)'\r', (byte)'\n']);
        if (random.Next(8) != 0)
            multipart.AddRange(Encoding.ASCII.GetBytes($"--{boundary}--\r\n"));
        return [.. multipart];
    }

    private static byte[] TextPart(Random random)
    {
        var charset = Charsets[random.Next(Charsets.Length)];
        var encoding = TransferEncodings[random.Next(TransferEncodings.Length)];
        var content = Content(random);
        if (encoding == "base64" && random.Next(4) != 0)
            content = Encoding.ASCII.GetBytes(Convert.ToBase64String(content, Base64FormattingOptions.InsertLineBreaks));
        else if (encoding == "quoted-printable" && random.Next(4) != 0)
            content = Encoding.ASCII.GetBytes(string.Concat(content.Select(b => b is >= 33 and <= 126 and not (byte)'=' ? ((char)b).ToString() : $"={b:X2}")));

        var head = new StringBuilder("Content-Type: ").Append(TextTypes[random.Next(TextTypes.Length)]);
        if (charset.Length > 0)
            head.Append("; charset=").Append(charset);
        head.Append("\r\n");
        if (encoding.Length > 0)
            head.Append("Content-Transfer-Encoding: ").Append(encoding).Append("\r\n");
        if (random.Next(6) == 0)
            head.Append("Content-Disposition: ").Append(random.Next(2) == 0 ? "inline" : "attachment; filename=a.txt").Append("\r\n");
        return [.. Encoding.ASCII.GetBytes(head.Append("\r\n").ToString()), .. content];
    }

    /// <summary>Text in UTF-8, Latin-1 or UTF-16, with stray bytes.</summary>
    private static byte[] Content(Random random)
    {
        var encoding = random.Next(3) switch { 0 => Encoding.UTF8, 1 => Encoding.Latin1, _ => Encoding.Unicode };
        var bytes = new List<byte>();
        if (random.Next(10) == 0)
            bytes.AddRange(random.Next(3) switch { 0 => [0xEF, 0xBB, 0xBF], 1 => [0xFF, 0xFE], _ => [0xFE, 0xFF] });
        for (var i = random.Next(random.Next(20) == 0 ? 3000 : 40); i > 0; i--)
        {
            if (random.Next(12) == 0)
                bytes.Add((byte)random.Next(256));
            else
                bytes.AddRange(encoding.GetBytes(Pieces[random.Next(Pieces.Length)]));
        }

        return [.. bytes];
    }

    /// <summary>Base64 as mailers write it, damaged, or mostly junk.</summary>
    private static byte[] Base64Part(Random random)
    {
        byte[] content;
        if (random.Next(3) == 0)
        {
            var data = new byte[random.Next(random.Next(10) == 0 ? 100_000 : 3000)];
            random.NextBytes(data);
            content = Encoding.ASCII.GetBytes(Convert.ToBase64String(data, Base64FormattingOptions.InsertLineBreaks));
            for (var damage = random.Next(3) == 0 ? random.Next(1, 6) : 0; damage > 0 && content.Length > 0; damage--)
                content[random.Next(content.Length)] = Base64Odd[random.Next(Base64Odd.Length)];
        }
        else
        {
            var odd = random.Next(4) switch { 0 => 0.0, 1 => 0.02, 2 => 0.2, _ => 0.6 };
            content = new byte[random.Next(random.Next(10) == 0 ? 70_000 : 120)];
            for (var i = 0; i < content.Length; i++)
            {
                content[i] = random.NextDouble() < odd
                    ? Base64Odd[random.Next(Base64Odd.Length)]
                    : random.Next(8) == 0 ? (byte)'=' : Base64Alphabet[random.Next(Base64Alphabet.Length)];
            }
        }

        return [.. "Content-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=x.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n"u8, .. content];
    }
}
