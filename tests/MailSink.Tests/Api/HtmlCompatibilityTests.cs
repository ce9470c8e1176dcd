using System.Net;
using System.Text.Json;
using MailSink.Api.Analysis;
using MailSink.Tests.Support;

namespace MailSink.Tests.Api;

/// <summary>GET /api/analysis/html/{id}: the features a message's HTML and CSS use, with the clients that lack them (caniemail's data).</summary>
public sealed class HtmlCompatibilityTests(SharedHost shared) : IClassFixture<SharedHost>
{
    [Fact]
    public async Task A_message_using_flexbox_video_and_dark_mode_css_is_told_where_they_fail()
    {
        var host = shared.Host;
        var inbox = MailSinkHost.NewInbox();
        const string html = """
            <!DOCTYPE html><html><head><style>
            @media (prefers-color-scheme: dark) { body { background: #000; } }
            a:hover { color: red; }
            </style></head><body>
            <div style="display: flex; border-radius: 4px; padding: 1rem">Flex</div>
            <video src="https://example.com/a.mp4"></video>
            <img src="https://example.com/a.png" srcset="https://example.com/a@2x.png 2x" alt="a">
            </body></html>
            """;
        await SmtpSend.MessageAsync(host.SmtpPort, UiMailFor($"x@{inbox}.localhost", html));
        var id = (await host.ListAsync(inbox)).Single().GetProperty("id").GetString();
        var report = await host.GetJsonAsync($"/api/analysis/html/{id}");

        Assert.Equal("1.0.4", report.GetProperty("dataVersion").GetString());
        var features = report.GetProperty("features").EnumerateArray().ToDictionary(f => f.GetProperty("slug").GetString()!, f => f);
        foreach (var slug in new[] { "css-display-flex", "css-border-radius", "css-padding", "css-unit-rem", "css-at-media-prefers-color-scheme", "css-pseudo-class-hover", "html-video", "html-srcset", "html-doctype", "html-style" })
            Assert.True(features.ContainsKey(slug), $"{slug} not found among {string.Join(", ", features.Keys)}");
        Assert.DoesNotContain("css-display-grid", features.Keys);
        Assert.DoesNotContain("css-at-media-hover", features.Keys); // a:hover is a selector, not a media query

        // Outlook on Windows (Word's renderer) has never had flexbox.
        Assert.Contains("Outlook Windows", features["css-display-flex"].GetProperty("notSupported").EnumerateArray().Select(c => c.GetString()));
        Assert.StartsWith("https://www.caniemail.com/features/", features["css-display-flex"].GetProperty("url").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await host.Http.GetAsync($"/api/analysis/html/{Guid.NewGuid()}")).StatusCode);
    }

    [Theory]
    [InlineData("<p style=\"color: rgba(0,0,0,.5); width: calc(100% - 2px)\">x</p>", "css-rgba,css-unit-calc,css-unit-percent,css-width,css-color")]
    [InlineData("<p style=\"--brand: red; color: var(--brand) !important\">x</p>", "css-variables,css-important")]
    [InlineData("<div style=\"background-image: linear-gradient(red, blue)\"></div>", "css-background-image,css-linear-gradient")]
    [InlineData("<a href=\"mailto:a@example.com\" aria-label=\"mail\">m</a><h2>t</h2><ul><li>i</li></ul>", "html-mailto-links,html-aria-label,html-h1-h6,html-lists")]
    [InlineData("<style>p::before { content: 'x' } @font-face { font-family: x; }</style>", "css-pseudo-element-before,css-at-font-face")]
    public void Features_are_named_as_caniemail_names_them(string html, string expected)
    {
        var used = HtmlCompatibility.Used(html);
        foreach (var slug in expected.Split(','))
            Assert.Contains(slug, used);
    }

    /// <summary>
    /// HTML and CSS are the sender's to make, and each request analyses them again: a small message must not
    /// hold a core for seconds. Before the parser's copy was capped (nesting, size) and the CSS patterns made
    /// linear, these took 11-15 s alone (a long word in a style; 30,000 nested elements); now each takes a
    /// fraction of a second alone. The bound is a hang guard with room for a busy test run, not a speed
    /// target. What is found stays the same: features nested past the cap, or after a long word, are named.
    /// </summary>
    [Theory]
    [InlineData("nesting")]
    [InlineData("long word in a style attribute")]
    [InlineData("long word in a style sheet")]
    [InlineData("media rules without a block")]
    public void Hostile_html_and_css_are_analysed_in_a_moment_and_what_they_use_is_still_found(string kind)
    {
        var html = kind switch
        {
            "nesting" => string.Concat(Enumerable.Repeat("<div>", 30_000)) + "<video></video>",
            "long word in a style attribute" => "<p style=\"b:" + new string('a', 900_000) + " calc(1px)\">x</p><video></video>",
            "long word in a style sheet" => "<style>p{b:" + new string('a', 900_000) + " calc(1px)}</style><video></video>",
            _ => "<style>" + string.Concat(Enumerable.Repeat("@media", 50_000)) + "</style><video></video>",
        };

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var used = HtmlCompatibility.Used(html);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{kind}: {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Contains("html-video", used);
        if (kind.StartsWith("long word", StringComparison.Ordinal))
            Assert.Contains("css-unit-calc", used);
    }

    private static MimeKit.MimeMessage UiMailFor(string to, string html)
    {
        var message = new MimeKit.MimeMessage { Subject = "Compat" };
        message.From.Add(MimeKit.MailboxAddress.Parse("a@example.com"));
        message.To.Add(MimeKit.MailboxAddress.Parse(to));
        message.Body = new MimeKit.TextPart("html") { Text = html };
        return message;
    }
}
