using AngleSharp.Html.Parser;
using MailSink.Storage;

namespace MailSink.Tests.Unit;

public sealed class ContentAnalyzerTests
{
    [Theory]
    [InlineData("Your code is 123456.", new[] { "123456" })]
    [InlineData("Use G3H1Y2 to sign in", new[] { "G3H1Y2" })]
    [InlineData("code:5H0Y2", new[] { "5H0Y2" })]
    [InlineData("PIN 4821, backup 99812345", new[] { "4821", "99812345" })]
    [InlineData("123456 and again 123456", new[] { "123456" })]
    public void Codes_that_stand_out_are_found(string text, string[] expected) =>
        Assert.Equal(expected, ContentAnalyzer.FindCodes(text));

    [Theory]
    [InlineData("Copyright 2024 Acme. Since 1999.")]
    [InlineData("Meet at 12:30 on 2024-01-02, total $1,234.56 or 1234.5678")]
    [InlineData("WELCOME TO THE SALE, HELLO THERE, ORDER NOW")]
    [InlineData("call +1 555 0100 or visit https://example.com/a1b2c3d4/123456 or mail 123456@example.com")]
    [InlineData("lowercase abc123 and Mixed Ab12Cd are not codes; 123 and 123456789 are the wrong length")]
    public void Ordinary_words_years_dates_prices_urls_and_addresses_are_not_codes(string text) =>
        Assert.Empty(ContentAnalyzer.FindCodes(text));

    [Fact]
    public void Html_links_images_and_visible_codes_are_found_and_hidden_text_is_ignored()
    {
        var message = new StoredMessage
        {
            Html = """
                <html><head><title>T 777777</title><script>var code = "888888";</script></head>
                <body><p>Code</p><p>246810</p>
                <a href=" https://a.example/x ">  Go   there </a><area href="https://b.example/map" alt="m">
                <a href="#"><img src="cid:part1" alt=""></a><img src="data:x"></body></html>
                """,
            Text = "See https://c.example/path), or (http://d.example/q?a=1&b=2).",
        };

        ContentAnalyzer.Analyze(message);

        Assert.Equal(["https://a.example/x", "https://b.example/map", "#"], message.HtmlLinks.Select(l => l.Href));
        Assert.Equal(["Go there", null, null], message.HtmlLinks.Select(l => l.Text));
        Assert.Equal(["cid:part1", "data:x"], message.HtmlImages.Select(i => i.Src));
        Assert.Equal(["", null], message.HtmlImages.Select(i => i.Alt));
        Assert.Equal(["246810"], message.HtmlCodes);
        Assert.Equal(["https://c.example/path", "http://d.example/q?a=1&b=2"], message.TextLinks.Select(l => l.Href));
        Assert.All(message.TextLinks, l => Assert.Equal(l.Href, l.Text));
    }

    [Fact]
    public void Broken_html_never_throws()
    {
        var message = new StoredMessage { Html = "<a href=\"https://x.example\"><b>unclosed <img src=>< <<>>&#xZZ; 424242" };
        ContentAnalyzer.Analyze(message);
        Assert.Equal("https://x.example", Assert.Single(message.HtmlLinks).Href);
        Assert.Equal(["424242"], message.HtmlCodes);
    }

    // What follows pins the behaviour of the regex version on the awkward cases, so that a faster
    // implementation can be shown to give the same answers (these ran green against it first).

    [Theory]
    [InlineData("(123456)", new[] { "123456" })]
    [InlineData("[G3H1Y2].", new[] { "G3H1Y2" })]
    [InlineData("\"ABCD12\"", new[] { "ABCD12" })]
    [InlineData("code=483920;", new[] { "483920" })]
    [InlineData("Code:483920!", new[] { "483920" })]
    [InlineData("_1234_", new[] { "1234" })]
    [InlineData("1234.", new[] { "1234" })]
    [InlineData("1234.\n", new[] { "1234" })]
    [InlineData("code 1234  5678", new[] { "1234", "5678" })]
    [InlineData("WORD 1234", new[] { "1234" })]
    [InlineData("ref_1234 x-1234 A1B2-C3D4 1234.5 12.3456 1234:5678", new string[0])]
    [InlineData("#1234 $5678 €9012 £3456 +7890", new string[0])]
    [InlineData("call 1234 5678 now", new string[0])]
    public void Codes_next_to_punctuation(string text, string[] expected) =>
        Assert.Equal(expected, ContentAnalyzer.FindCodes(text));

    [Theory]
    [InlineData("é123456")]
    [InlineData("123456é")]
    [InlineData("\uff21123456")] // fullwidth A
    [InlineData("\u0661\u0662\u0663123456")] // Arabic-Indic digits
    [InlineData("\u00b21234")] // superscript two: a number, not a digit
    [InlineData("\u216b1234")] // Roman numeral twelve: a letter number
    [InlineData("1234\u00b2")]
    [InlineData("\u017f1234")] // long s
    public void Letters_and_numbers_of_any_script_next_to_a_code_make_it_part_of_a_word(string text) =>
        Assert.Empty(ContentAnalyzer.FindCodes(text));

    [Theory]
    [InlineData("1234\u0301", new[] { "1234" })] // a combining mark is neither letter nor number
    [InlineData("\u200d123456\u200d", new[] { "123456" })] // zero-width joiner
    [InlineData("\ud835\udc00123456", new[] { "123456" })] // a letter outside the BMP is two surrogates
    [InlineData("\u00a0123456\u00a0", new[] { "123456" })]
    public void Characters_that_are_neither_letters_nor_numbers_separate_codes(string text, string[] expected) =>
        Assert.Equal(expected, ContentAnalyzer.FindCodes(text));

    [Theory]
    [InlineData("123456", new[] { "123456" })]
    [InlineData("A1B2", new[] { "A1B2" })]
    [InlineData("A1B2C3D4", new[] { "A1B2C3D4" })]
    [InlineData("G3H1Y2 first", new[] { "G3H1Y2" })]
    [InlineData("last G3H1Y2", new[] { "G3H1Y2" })]
    [InlineData("ABCD1234", new[] { "ABCD1234" })]
    [InlineData("1899, 2100, 19000, 0000, 12345678", new[] { "1899", "2100", "19000", "0000", "12345678" })]
    [InlineData("1900 2099 2024", new string[0])]
    [InlineData("Ab12Cd ABcd1234 abcD1234 aBCD1234 ABCDEF", new string[0])]
    [InlineData("123 AB1 123456789 A1B2C3D4E", new string[0])]
    public void Codes_at_the_edges_mixed_case_digits_only_and_lengths(string text, string[] expected) =>
        Assert.Equal(expected, ContentAnalyzer.FindCodes(text));

    [Theory]
    [InlineData("1234 https://x.example/ABCD12 5678", new[] { "1234", "5678" })] // the URL becomes a space: no longer one number
    [InlineData("A1B2C3 x@y.z", new[] { "A1B2C3" })]
    [InlineData("1234 5@a.b", new[] { "1234" })]
    [InlineData("ABCD12@example.com HTTPS://EXAMPLE.COM/A1B2C3", new string[0])]
    [InlineData("xhttps://A1B2C3", new[] { "A1B2C3" })] // no word boundary before the scheme: not a URL
    public void Urls_and_addresses_are_blanked_before_codes_are_looked_for(string text, string[] expected) =>
        Assert.Equal(expected, ContentAnalyzer.FindCodes(text));

    [Fact]
    public void At_most_ten_codes_first_occurrences_in_order()
    {
        var text = "K01X, K01X, 2024, WORD, " + string.Join(", ", Enumerable.Range(2, 11).Select(i => $"K{i:D2}X"));
        Assert.Equal(Enumerable.Range(1, 10).Select(i => $"K{i:D2}X"), ContentAnalyzer.FindCodes(text));
    }

    [Fact]
    public void Text_past_one_mebichar_is_not_scanned_and_a_token_cut_there_is_read_as_cut()
    {
        const int max = 1024 * 1024;
        var cutInside = "A1B2C3 " + new string(' ', max - 7 - 3) + "123456";
        Assert.Equal(["A1B2C3"], ContentAnalyzer.FindCodes(cutInside));

        var cutAfterFour = new string('.', max - 5) + " 12345678 ZZ99";
        Assert.Equal(["1234"], ContentAnalyzer.FindCodes(cutAfterFour));

        var message = new StoredMessage { Text = new string(' ', max - 30) + "https://a.example/abcdefghijklmnopqrstuvwxyz 482913" };
        ContentAnalyzer.Analyze(message);
        Assert.Equal(["https://a.example/abcdefghijkl"], message.TextLinks.Select(l => l.Href));
        Assert.Empty(message.TextCodes);
    }

    [Theory]
    [InlineData("See https://a.example/x).", new[] { "https://a.example/x" })]
    [InlineData("HTTPS://A.EXAMPLE/B", new[] { "HTTPS://A.EXAMPLE/B" })]
    [InlineData("xhttps://a.example _https://a.example éhttps://a.example", new string[0])]
    [InlineData("(ftp://f.example/a.txt)", new[] { "ftp://f.example/a.txt" })]
    [InlineData("https:// and https://)", new[] { "https://" })]
    [InlineData("http://a.example\u00a0next", new[] { "http://a.example" })]
    [InlineData("https://a.example/\"q\" https://b.example/<b> https://c.example/'", new[] { "https://a.example/", "https://b.example/", "https://c.example/" })]
    [InlineData("https://a.example/x https://a.example/x", new[] { "https://a.example/x", "https://a.example/x" })]
    [InlineData("https://a.example/?q=1,https://b.example", new[] { "https://a.example/?q=1,https://b.example" })]
    [InlineData("x://https://a.example www.b.example", new[] { "https://a.example" })]
    public void Urls_in_text(string text, string[] expected) =>
        Assert.Equal(expected, ContentAnalyzer.FindUrls(text));

    [Fact]
    public void A_long_s_is_not_an_s_in_the_scheme() =>
        Assert.Empty(ContentAnalyzer.FindUrls("httpſ://a.example HTTPſ://b.example"));

    [Fact]
    public void At_most_a_thousand_urls() =>
        Assert.Equal(1000, ContentAnalyzer.FindUrls(string.Concat(Enumerable.Range(0, 1100).Select(i => $"https://a.example/{i} "))).Count);

    [Theory]
    [InlineData("<p>Code <span>111111</span><script>222222</script><style>.a{}</style> 333333</p>", "Code \n111111\n 333333\n")]
    [InlineData("<div><noscript><p>444444</p></noscript></div><div>555555</div>", "555555\n")]
    [InlineData("<noscript><p>444444</p></noscript><div>555555</div>", "444444\n555555\n")] // before <body>: the parser closes the head's noscript at <p>
    [InlineData("<div><template><p>666666</p></template>after</div>", "after\n")]
    [InlineData("<body><title>777777</title>888888</body>", "888888\n")]
    [InlineData("<html><head><title>T 999999</title><style>x</style></head><body>Hi</body></html>", "Hi\n")]
    [InlineData("<div>a<noscript>b<style>c</style>d</noscript>e</div>", "a\ne\n")]
    [InlineData("<div><script>x</script><b>131313</b></div>", "131313\n")]
    [InlineData("<div><SCRIPT>141414</SCRIPT><Style>151515</Style></div>", "")]
    [InlineData("<b>12</b><b>34</b>", "12\n34\n")]
    [InlineData("<textarea>161616</textarea>", "161616\n")]
    [InlineData("<svg><title>121212</title><script>171717</script></svg>", "121212\n171717\n")] // SVG names are lower case: not hidden
    [InlineData("", "")]
    public void Visible_text_skips_hidden_elements_at_any_depth(string html, string expected)
    {
        var document = new HtmlParser(new HtmlParserOptions { IsScripting = false }).ParseDocument(html);
        Assert.Equal(expected, ContentAnalyzer.VisibleText(document));
    }

    [Fact]
    public void Codes_split_by_elements_are_not_joined_and_hidden_codes_are_not_found()
    {
        var message = new StoredMessage
        {
            Html = "<html><head><title>999999</title></head><body><b>12</b><b>34</b><noscript><p>444444</p></noscript>"
                   + "<div>a <script>222222</script><span>G3H1Y2</span></div><svg><title>121212</title></svg></body></html>",
        };
        ContentAnalyzer.Analyze(message);
        Assert.Equal(["G3H1Y2", "121212"], message.HtmlCodes);
    }
}
