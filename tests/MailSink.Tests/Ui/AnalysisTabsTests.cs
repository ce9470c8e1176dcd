using MailSink.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using static Microsoft.Playwright.Assertions;

namespace MailSink.Tests.Ui;

/// <summary>The message view's Spam, Links (checked) and Preview tabs in Chromium, with the same data the API gives.</summary>
[Collection(nameof(BrowserCollection))]
public sealed class AnalysisTabsTests(ChromiumFixture chromium, SpamdServer spamd, TestDnsServer dns, ITestOutputHelper output)
    : IClassFixture<SpamdServer>, IClassFixture<TestDnsServer>
{
    private const string Gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";

    [Fact]
    public async Task Spam_score_link_outcomes_and_a_preview_show_in_the_message_view()
    {
        await using var site = await LoopbackWebServer.StartAsync(web =>
        {
            web.MapMethods("/fine", ["GET", "HEAD"], () => Results.Ok());
            web.MapMethods("/gone", ["GET", "HEAD"], () => Results.NotFound());
        });
        dns.Txt("acme.example", "v=spf1 ip4:127.0.0.1 -all");
        await using var host = await MailSinkHost.StartAsync([.. spamd.HostSettings, .. dns.HostSettings, "--MailSink:Analysis:LinkCheck:AllowPrivate=true"]);
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(host.SmtpPort, UiMail.Html($"to@{inbox}.localhost", "Offer", $"""
            <p style="display: flex">{Gtube}</p><a href="{site.BaseUrl}/fine">fine</a> <a href="{site.BaseUrl}/gone">gone</a>
            """, text: $"{Gtube}\r\n"));

        await using var ui = await UiPage.OpenAsync(chromium, host, output, $"/#/inbox/{inbox}");
        await ui.OpenMessageAsync("Offer");

        await ui.Tab("spam").ClickAsync();
        await Expect(ui.Page.Locator("#spam-score")).ToContainTextAsync("Score 100"); // GTUBE alone is 1,000 points
        await Expect(ui.Panel.Locator("tr", new() { HasText = "GTUBE" })).ToContainTextAsync("Generic Test for Unsolicited Bulk Email");

        await ui.Tab("links").ClickAsync();
        await ui.Page.Locator("#check-links").ClickAsync();
        await Expect(ui.Panel.Locator("tr", new() { HasText = "/fine" }).Locator("td.check")).ToHaveTextAsync("ok (200)");
        await Expect(ui.Panel.Locator("tr", new() { HasText = "/gone" }).Locator("td.check")).ToHaveTextAsync("broken (404)");

        await ui.Tab("deliverability").ClickAsync();
        await Expect(ui.Page.Locator("#authentication tr[data-check='SPF'] td.result")).ToHaveTextAsync("Pass");
        await Expect(ui.Page.Locator("#authentication tr[data-check='DKIM'] td.result")).ToHaveTextAsync("Warning");
        await Expect(ui.Page.Locator("#authentication tr[data-check='DMARC'] td.result")).ToHaveTextAsync("Warning");

        await ui.Tab("compatibility").ClickAsync();
        await Expect(ui.Panel.Locator("tr", new() { Has = ui.Page.Locator("td[data-slug='css-display-flex']") })).ToContainTextAsync("Outlook Windows");

        await ui.Tab("preview").ClickAsync();
        await ui.Page.Locator("#preview-client").SelectOptionAsync("mailsink-mobile-light");
        await ui.Page.Locator("#render-preview").ClickAsync();
        var image = ui.Page.Locator("#preview-image");
        await Expect(image).ToBeVisibleAsync(new() { Timeout = 90_000 });
        Assert.Equal(390, await image.EvaluateAsync<int>("img => img.decode().then(() => img.naturalWidth)"));
        ui.AssertNoScriptErrors();
    }

    [Fact]
    public async Task Without_spamd_the_spam_tab_says_how_to_get_it()
    {
        await using var host = await MailSinkHost.StartAsync();
        var inbox = MailSinkHost.NewInbox();
        await SmtpSend.MessageAsync(host.SmtpPort, UiMail.Html($"to@{inbox}.localhost", "Plain", "<p>Hello</p>"));
        await using var ui = await UiPage.OpenAsync(chromium, host, output, $"/#/inbox/{inbox}");
        await ui.OpenMessageAsync("Plain");
        await ui.Tab("spam").ClickAsync();
        await Expect(ui.Page.Locator("#spam-unavailable")).ToContainTextAsync("it needs SpamAssassin's spamd (Debian: apt-get install spamd");
    }
}
