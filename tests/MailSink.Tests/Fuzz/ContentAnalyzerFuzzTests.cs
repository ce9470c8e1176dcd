using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using MailSink.Storage;

namespace MailSink.Tests.Fuzz;

/// <summary>
/// Issue 5, item 4: content analysis reads HTML and text straight from untrusted mail. On random and
/// mutated bodies it never throws, takes time in proportion to the input, and reports only codes of 4 to 8
/// characters of [A-Z0-9] that stand in the text, and links that stand in it.
/// </summary>
public sealed partial class ContentAnalyzerFuzzTests(ITestOutputHelper output)
{
    private static readonly string[] Tags =
    [
        "a", "area", "img", "div", "p", "span", "b", "i", "table", "tr", "td", "script", "style", "noscript", "template",
        "head", "title", "body", "html", "br", "svg", "math", "select", "option", "iframe", "form", "button", "textarea",
        "plaintext", "xmp", "frameset", "li", "ul", "h1", "pre", "font", "center", "map", "object", "foreignObject", "annotation-xml",
    ];

    private static readonly string[] Dictionary =
    [
        "<a href=\"https://example.com/x?y=1&amp;z=2\">", "</a>", "<img src=\"cid:logo\" alt=\"Logo\">", "<area href=x>",
        "<script>", "</script>", "<style>", "</style>", "<!--", "-->", "<![CDATA[", "]]>", "<!DOCTYPE html>", "<title>",
        "<template>", "<noscript>", "<table><tr><td>", "</td></tr></table>", "&amp;", "&#x41;", "&#0;", "&#xD800;", "&nbsp;",
        "123456", "G3H1Y2", "code: 4821", "Your code is 7Q2XK9", "2024-01-02", "12:30", "1,234.56", "+1 555 0100", "INV-1234",
        "$1234", "#9999", "1999", "2050", "ABCD", "A1B2C3D4E5", "https://example.com/verify?code=123456", "ftp://x.example/a",
        "user@example.com", "Ｇ３Ｈ１", "١٢٣٤", "ＡＢ12", "\u00a0123456\u00a0",
    ];

    [GeneratedRegex("^[A-Z0-9]{4,8}$")]
    private static partial Regex CodeShape();

    [Fact]
    public Task Random_and_mutated_bodies_never_throw_and_yield_only_well_formed_codes() =>
        FuzzRun.RunAsync("content", output, input =>
        {
            var random = input.Random;
            var html = input.Literal ?? random.Next(3) switch
            {
                0 => Mutator.Mutate(random, input.PickCorpus(), Dictionary, input.PickCorpus()),
                1 => RandomHtml(random),
                _ => Mutator.Mutate(random, RandomHtml(random), Dictionary, input.PickCorpus()),
            };
            var text = input.Literal ?? (random.Next(2) == 0 ? RandomText(random) : Mutator.Mutate(random, input.PickCorpus(), Dictionary));
            input.Record(html);
            return Task.FromResult(Check(html, text));
        });

    private static IEnumerable<string> Check(string html, string text)
    {
        var message = new StoredMessage { Html = html, Text = text };
        var clock = Stopwatch.StartNew();
        ContentAnalyzer.Analyze(message);
        var codes = ContentAnalyzer.FindCodes(html);
        var elapsed = clock.Elapsed;

        var limit = TimeSpan.FromSeconds(2) + TimeSpan.FromTicks(500 * (html.Length + text.Length + html.Length)); // 50 µs per character
        Assert.True(elapsed < limit, $"analysis of {html.Length} + {text.Length} characters took {elapsed.TotalMilliseconds:F0} ms: {FuzzRun.Show(html)}");

        AssertCodes(message.HtmlCodes, null, html);
        AssertCodes(message.TextCodes, text, text);
        AssertCodes(codes, html, html);
        Assert.True(message.HtmlLinks.Count <= 1000 && message.HtmlImages.Count <= 1000, "more than 1000 links or images");
        Assert.All(message.HtmlLinks, l => Assert.NotNull(l.Href));
        foreach (var link in message.TextLinks)
        {
            Assert.Matches("^(?i:https?|ftp)://", link.Href);
            Assert.Contains(link.Href, text, StringComparison.Ordinal);
        }

        return
        [
            $"html codes {message.HtmlCodes.Count}", $"text codes {message.TextCodes.Count}", $"raw html codes {codes.Count}",
            $"links {Bucket(message.HtmlLinks.Count)}", $"images {Bucket(message.HtmlImages.Count)}", $"text links {Bucket(message.TextLinks.Count)}",
            .. message.HtmlCodes.Concat(message.TextCodes).Select(c => $"code shape {Shape(c)}"),
        ];

        void AssertCodes(List<string> found, string? source, string input)
        {
            Assert.True(found.Count <= 10, $"{found.Count} codes");
            Assert.Equal(found.Count, found.Distinct(StringComparer.Ordinal).Count());
            foreach (var code in found)
            {
                Assert.True(CodeShape().IsMatch(code), $"code '{FuzzRun.Show(code)}' is not 4-8 of [A-Z0-9]; input: {FuzzRun.Show(input)}");
                if (source is not null)
                    Assert.Contains(code, source, StringComparison.Ordinal);
            }
        }
    }

    private static string Bucket(int n) => n switch { 0 => "0", 1 => "1", < 10 => "<10", < 1000 => "<1000", _ => "1000" };

    private static string Shape(string code) =>
        $"{code.Length}{(code.All(char.IsAsciiDigit) ? "d" : code.Any(char.IsAsciiDigit) ? "m" : "l")}";

    private static string RandomHtml(Random random)
    {
        var builder = new StringBuilder();
        var maxDepth = random.Next(5) == 0 ? random.Next(50, 400) : random.Next(1, 12);
        Element(random, builder, 0, maxDepth, 16 * 1024);
        return builder.ToString();
    }

    private static void Element(Random random, StringBuilder builder, int depth, int maxDepth, int budget)
    {
        while (builder.Length < budget && random.Next(depth == 0 ? 12 : 4) != 0)
        {
            switch (random.Next(8))
            {
                case 0 or 1:
                    builder.Append(RandomText(random, 1 + random.Next(6)));
                    break;
                case 2:
                    builder.Append(random.Pick(Dictionary));
                    break;
                default:
                    var tag = random.Pick(Tags);
                    builder.Append('<').Append(random.Next(6) == 0 ? tag.ToUpperInvariant() : tag);
                    if (random.Next(2) == 0)
                        builder.Append(random.Pick(["", " href=", " src=", " alt=", " style="])).Append('"').Append(RandomText(random, 1)).Append('"');
                    builder.Append(random.Next(10) == 0 ? "/>" : ">");
                    if (depth < maxDepth)
                        Element(random, builder, depth + 1, maxDepth, budget);
                    if (random.Next(5) != 0)
                        builder.Append("</").Append(random.Next(8) == 0 ? random.Pick(Tags) : tag).Append('>');
                    break;
            }
        }
    }

    private static string RandomText(Random random, int words = 0)
    {
        var builder = new StringBuilder();
        var count = words > 0 ? words : random.Next(1, 60);
        for (var i = 0; i < count; i++)
        {
            builder.Append(random.Next(7) switch
            {
                0 => random.Pick(Dictionary),
                1 => random.Next(0, 100_000_000).ToString(random.Next(2) == 0 ? "D4" : "D6", System.Globalization.CultureInfo.InvariantCulture),
                2 => Mutator.RandomAscii(random, random.Next(1, 10)).ToUpperInvariant(),
                3 => Mutator.RandomChars(random, random.Next(1, 4)),
                _ => random.Pick(["the", "code", "is", "your", "verify", "Login", "at", "on", "Code:", "PIN", "OTP", "for"]),
            });
            builder.Append(random.Pick([" ", " ", "\n", "\t", ", ", ". ", ": ", "-", "/", "\u00a0", ""]));
        }

        return builder.ToString();
    }
}
