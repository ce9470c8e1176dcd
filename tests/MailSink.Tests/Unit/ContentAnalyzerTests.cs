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
}
