using System.Text;
using AngleSharp.Html.Parser;
using MailSink.Storage;

namespace MailSink.Tests.Fuzz;

/// <summary>
/// The fast <see cref="ContentAnalyzer"/> against <see cref="ReferenceContentAnalyzer"/>, the regex version it
/// replaced: on random and mutated text and HTML, built from the pieces that decide what a code or a URL is
/// (runs of 3 to 9 letters and digits, years, joiners, currency signs, letters and numbers of other scripts,
/// surrogates, schemes, addresses, hidden elements), both must give the same codes, URLs, links, images and
/// visible text, in the same order.
/// </summary>
public sealed class ContentAnalyzerDifferentialTests(ITestOutputHelper output)
{
    private static readonly HtmlParser Parser = new(new HtmlParserOptions { IsScripting = false });

    private static readonly string[] Separators =
    [
        " ", " ", " ", "  ", "\n", "\r\n", "\t", ", ", ". ", ":", ": ", "-", "/", ".", ",", "_", "+", "$", "€", "£", "#", "=", "(",
        ")", "!", "?", ";", "'", "\"", "<", ">", "\u00a0", "\u200d", "\u0301", "\u00ad", "", "", "",
    ];

    private static readonly string[] Foreign =
    [
        "é", "\uff21", "\uff11", "\u0661", "\u00b2", "\u00bd", "\u216b", "\u017f", "ß", "\u0130", "\u0131", "\u212a", "\ud835\udc00",
        "\ud800", "\udfff", "\u4e2d", "\u0905", "\u0966", "\u02b0", "\u01c5",
    ];

    private static readonly string[] UrlPieces =
    [
        "https://", "http://", "HTTP://", "Https://", "ftp://", "FTP://", "://", "www.", "x.example/", "a.example", "?q=1&b=",
        "@", "user@", "@example.com", "a@b.c", "mailto:", "httpſ://", "xhttps://", "_http://",
    ];

    private static readonly string[] Words = ["the", "code", "Code:", "is", "PIN", "OTP", "Your", "verify", "at", "on", "INV", "ref", "x"];

    private static readonly string[] Tags =
    [
        "div", "p", "span", "b", "a", "td", "table", "tr", "script", "style", "noscript", "template", "head", "title", "body",
        "html", "svg", "math", "textarea", "xmp", "iframe", "noembed", "noframes", "select", "option", "br", "img", "SCRIPT", "Style",
        "foreignObject", "desc", "frameset", "pre", "li",
    ];

    [Fact]
    public Task Fast_analysis_gives_what_the_regex_version_gave() =>
        FuzzRun.RunAsync("content-oracle", output, input =>
        {
            var random = input.Random;
            var text = input.Literal ?? random.Next(4) switch
            {
                0 => Mutator.Mutate(random, input.PickCorpus(), [.. Separators, .. Foreign, .. UrlPieces], input.PickCorpus()),
                1 => Mutator.Mutate(random, CodeText(random, 1 + random.Next(80)), Separators),
                _ => CodeText(random, random.Next(20) == 0 ? 2000 + random.Next(20_000) : 1 + random.Next(120)),
            };
            var html = input.Literal ?? (random.Next(3) == 0 ? Mutator.Mutate(random, Html(random), [.. Separators, .. Tags], input.PickCorpus()) : Html(random));
            input.Record(text + "\n----\n" + html);
            return Task.FromResult(Compare(text, html));
        });

    /// <summary>Large bodies the generator does not make: the load test's, and the regex's worst cases, up to and past the scan limit.</summary>
    [Theory]
    [InlineData("smtp-source", 102_400)]
    [InlineData("smtp-source with an address and a URL", 102_400)]
    [InlineData("A ", 1024 * 1024 + 7)]
    [InlineData("ABCD ", 1024 * 1024 + 7)]
    [InlineData("1999, ", 1024 * 1024 + 7)]
    [InlineData("K7Q2 x ", 1024 * 1024 + 7)]
    [InlineData("https://a.example/A1B2C3 ", 300_000)]
    public void Large_bodies_give_what_the_regex_version_gave(string unit, int length)
    {
        var body = new StringBuilder();
        if (unit.StartsWith("smtp-source", StringComparison.Ordinal))
        {
            for (var line = 1; body.Length < length; line++)
                body.Append("0123456789"[line % 10]).Append('X', 77).Append("\r\n");
            if (unit.Contains("address", StringComparison.Ordinal))
                body.Insert(0, "foo@client.example https://client.example/A1B2C3\r\n").Append("code 4821 mail foo@client.example\r\n");
        }
        else
        {
            while (body.Length < length)
                body.Append(unit);
        }

        var text = body.ToString(0, Math.Min(length, body.Length));
        Assert.Equal(ReferenceContentAnalyzer.FindCodes(text), ContentAnalyzer.FindCodes(text));
        Assert.Equal(ReferenceContentAnalyzer.FindUrls(text), ContentAnalyzer.FindUrls(text));
    }

    private static IEnumerable<string> Compare(string text, string html)
    {
        Same("codes in text", text, ContentAnalyzer.FindCodes(text), ReferenceContentAnalyzer.FindCodes(text));
        Same("urls in text", text, ContentAnalyzer.FindUrls(text), ReferenceContentAnalyzer.FindUrls(text));
        Same("codes in html source", html, ContentAnalyzer.FindCodes(html), ReferenceContentAnalyzer.FindCodes(html));
        Same("urls in html source", html, ContentAnalyzer.FindUrls(html), ReferenceContentAnalyzer.FindUrls(html));

        string? visible = null;
        try
        {
            var document = Parser.ParseDocument(HtmlDepthLimiter.Limit(html));
            visible = ContentAnalyzer.VisibleText(document);
            var expected = ReferenceContentAnalyzer.VisibleText(document);
            if (visible != expected)
                throw new FuzzFinding("visible text differs", $"{FuzzRun.Show(html)}\nfast:   {FuzzRun.Show(visible)}\nregex:  {FuzzRun.Show(expected)}");
        }
        catch (Exception ex) when (ex is not FuzzFinding)
        {
            // AngleSharp throws on some malformed HTML (see ContentAnalyzer.Analyze); nothing to compare.
        }

        var fast = new StoredMessage { Text = text, Html = html };
        var slow = new StoredMessage { Text = text, Html = html };
        ContentAnalyzer.Analyze(fast);
        ReferenceContentAnalyzer.Analyze(slow);
        Same("message", text + "\n----\n" + html, Describe(fast), Describe(slow));

        var codes = ReferenceContentAnalyzer.FindCodes(text);
        return
        [
            $"text codes {codes.Count}", $"text urls {Math.Min(ReferenceContentAnalyzer.FindUrls(text).Count, 3)}",
            $"html codes {Math.Min(slow.HtmlCodes.Count, 3)}", $"visible text {(visible is null ? "none" : visible.Length == 0 ? "empty" : "some")}",
            $"html error {slow.ParseError is not null}", .. codes.Select(c => $"code of {c.Length}"),
        ];
    }

    private static List<string> Describe(StoredMessage m) =>
    [
        .. m.HtmlLinks.Select(l => $"link {l.Href} | {l.Text}"), .. m.HtmlImages.Select(i => $"image {i.Src} | {i.Alt}"),
        .. m.HtmlCodes.Select(c => $"html code {c}"), .. m.TextLinks.Select(l => $"text link {l.Href} | {l.Text}"),
        .. m.TextCodes.Select(c => $"text code {c}"), $"error {m.ParseError}",
    ];

    private static void Same(string what, string input, List<string> fast, List<string> regex)
    {
        if (!fast.SequenceEqual(regex, StringComparer.Ordinal))
            throw new FuzzFinding($"{what} differ", $"{FuzzRun.Show(input)}\nfast:  [{FuzzRun.Show(string.Join(" · ", fast))}]\nregex: [{FuzzRun.Show(string.Join(" · ", regex))}]");
    }

    /// <summary>Pieces that sit on the edges of the rules, joined sometimes with and sometimes without separators.</summary>
    internal static string CodeText(Random random, int pieces)
    {
        var builder = new StringBuilder();
        for (var i = 0; i < pieces; i++)
        {
            switch (random.Next(10))
            {
                case 0 or 1 or 2:
                    Run(builder, random, random.Next(5) == 0 ? random.Next(1, 12) : random.Next(3, 10));
                    break;
                case 3:
                    builder.Append(random.Next(1895, 2105));
                    break;
                case 4:
                    builder.Append(random.Pick(Foreign));
                    break;
                case 5:
                    builder.Append(random.Pick(UrlPieces));
                    break;
                case 6:
                    builder.Append(random.Pick(Words));
                    break;
                default:
                    break;
            }

            builder.Append(random.Pick(Separators));
        }

        return builder.ToString();
    }

    private static void Run(StringBuilder builder, Random random, int length)
    {
        var kind = random.Next(4); // digits, upper-case mixed, upper-case letters, anything of ASCII letters and digits
        const string upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", digits = "0123456789", all = upper + digits + "abcdefghijklmnopqrstuvwxyz";
        for (var i = 0; i < length; i++)
        {
            builder.Append(kind switch
            {
                0 => digits[random.Next(10)],
                1 => (upper + digits)[random.Next(36)],
                2 => upper[random.Next(26)],
                _ => all[random.Next(all.Length)],
            });
        }
    }

    private static string Html(Random random)
    {
        var builder = new StringBuilder();
        if (random.Next(3) == 0)
            builder.Append("<html><head>").Append(random.Next(2) == 0 ? "<title>T 777777</title>" : "").Append("</head><body>");
        Element(random, builder, 0);
        return builder.ToString();
    }

    private static void Element(Random random, StringBuilder builder, int depth)
    {
        while (builder.Length < 8 * 1024 && random.Next(depth == 0 ? 10 : 3) != 0)
        {
            if (random.Next(3) == 0)
            {
                builder.Append(CodeText(random, 1 + random.Next(8)));
                continue;
            }

            var tag = random.Pick(Tags);
            builder.Append('<').Append(tag);
            if (random.Next(3) == 0)
                builder.Append(random.Pick([" href=\"https://x.example/", " src=\"cid:", " alt=\""])).Append(CodeText(random, 1)).Append('"');
            builder.Append('>');
            if (depth < 12)
                Element(random, builder, depth + 1);
            if (random.Next(6) != 0)
                builder.Append("</").Append(tag).Append('>');
        }
    }
}
