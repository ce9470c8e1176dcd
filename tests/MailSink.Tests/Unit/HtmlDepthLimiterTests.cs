using MailSink.Storage;

namespace MailSink.Tests.Unit;

public sealed class HtmlDepthLimiterTests
{
    [Fact]
    public void Ordinary_html_is_left_as_it_is()
    {
        const string html = "<html><body><div><p>Hi <a href=\"https://x.example\">there</a><img src=cid:1><br></p></div></body></html>";
        Assert.Same(html, HtmlDepthLimiter.Limit(html));
    }

    [Fact]
    public void Nesting_past_the_cap_is_flattened_and_what_comes_after_is_still_analysed()
    {
        var html = string.Concat(Enumerable.Repeat("<div>x", 5000)) + "<a href=\"https://deep.example/end\">the end</a> code 482913"
                   + "<script>if (a < b) { document.write('<div><div>'); }</script>";
        var limited = HtmlDepthLimiter.Limit(html);

        Assert.Equal(5000, limited.Split("<div>x").Length - 1); // every element kept
        Assert.Equal(5000 - HtmlDepthLimiter.MaxDepth, limited.Split("</div><div>x").Length - 1); // those past the cap as siblings
        Assert.Contains("document.write('<div><div>')", limited); // script text untouched

        var message = new StoredMessage { Html = html };
        ContentAnalyzer.Analyze(message);
        Assert.True(message.ParseError is null, message.ParseError);
        Assert.Equal("https://deep.example/end", Assert.Single(message.HtmlLinks).Href);
        Assert.Equal(["482913"], message.HtmlCodes);
    }

    [Fact]
    public void Html_that_breaks_the_parser_costs_the_links_not_the_message()
    {
        var message = new StoredMessage { Html = "<table><p><select><xmp></xmp><table>", Text = "code 482913" };
        ContentAnalyzer.Analyze(message);
        Assert.Equal(["482913"], message.TextCodes);
    }
}
