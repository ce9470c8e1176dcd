using MailSink.Tests.Support;
using Microsoft.Playwright;
using MimeKit;
using static Microsoft.Playwright.Assertions;

namespace MailSink.Tests.Ui;

/// <summary>
/// Takes the README's screenshots of the main views from a realistic set of mail. They go to the folder
/// named by <c>MAILSINK_SCREENSHOTS</c> (docs/screenshots/update.sh sets it), else to a temporary folder
/// that the test removes when it ends.
/// </summary>
[Collection(nameof(BrowserCollection))]
public sealed class ScreenshotTests(ChromiumFixture chromium, SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    [Fact]
    public async Task Screenshots_of_the_inbox_list_message_list_html_and_headers()
    {
        // Kept only where MAILSINK_SCREENSHOTS asks; a temporary folder goes with the test (it had been left
        // behind, 320 KB a test run).
        var target = Environment.GetEnvironmentVariable("MAILSINK_SCREENSHOTS");
        using var temporary = string.IsNullOrEmpty(target) ? new TempDirectory() : null;
        var folder = temporary?.Path ?? Directory.CreateDirectory(target!).FullName;
        await SendSampleMailAsync();

        await using var ui = await UiPage.OpenAsync(chromium, Host, output);
        await Expect(ui.InboxLink("signup").Locator(".count")).ToHaveTextAsync("4");
        var shots = new List<string> { await ShootAsync(ui, folder, "inbox-list") };

        await ui.InboxLink("signup").ClickAsync();
        await Expect(ui.Rows).ToHaveCountAsync(4);
        shots.Add(await ShootAsync(ui, folder, "message-list"));

        await ui.OpenMessageAsync("Welcome to Acme, Jordan!");
        await Expect(ui.HtmlFrame.Locator("h1")).ToHaveTextAsync("Welcome aboard, Jordan");
        await (await ui.HtmlFrameAsync()).WaitForLoadStateAsync(LoadState.Load);
        shots.Add(await ShootAsync(ui, folder, "message-html"));

        await ui.Tab("headers").ClickAsync();
        await Expect(ui.Panel.Locator("tr", new() { HasText = "X-Mailer" })).ToBeVisibleAsync();
        shots.Add(await ShootAsync(ui, folder, "message-headers"));

        foreach (var shot in shots)
        {
            var png = await File.ReadAllBytesAsync(shot);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
            Assert.Equal(1280, (png[16] << 24) | (png[17] << 16) | (png[18] << 8) | png[19]);
            Assert.Equal(800, (png[20] << 24) | (png[21] << 16) | (png[22] << 8) | png[23]);
            output.WriteLine($"{shot}: {png.Length} bytes");
        }

        ui.AssertNoScriptErrors();
    }

    private static async Task<string> ShootAsync(UiPage ui, string folder, string name)
    {
        var path = Path.Combine(folder, $"{name}.png");
        await ui.Page.Mouse.MoveAsync(0, 799); // no hover highlight in the picture
        await ui.Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, Animations = ScreenshotAnimations.Disabled });
        return path;
    }

    private async Task SendSampleMailAsync()
    {
        const string logo = """<svg xmlns="http://www.w3.org/2000/svg" width="120" height="32" viewBox="0 0 120 32"><rect width="32" height="32" rx="8" fill="#4c6ef5"/><path d="M9 23 16 8l7 15M11.5 18h9" stroke="#fff" stroke-width="2.6" fill="none" stroke-linecap="round" stroke-linejoin="round"/><text x="42" y="22" font-family="Helvetica,Arial,sans-serif" font-size="17" font-weight="700" fill="#1d2330">Acme</text></svg>""";
        const string welcome = """
            <html><body style="margin:0;background:#f1f3f9;font-family:Helvetica,Arial,sans-serif;color:#1d2330">
            <table width="100%" cellpadding="0" cellspacing="0" style="padding:32px 0"><tr><td align="center">
            <table width="520" cellpadding="0" cellspacing="0" style="background:#ffffff;border-radius:12px;padding:36px 40px;text-align:left">
            <tr><td><img src="cid:logo@acme.example" alt="Acme" width="120" height="32"></td></tr>
            <tr><td style="padding-top:28px"><h1 style="margin:0;font-size:26px">Welcome aboard, Jordan</h1></td></tr>
            <tr><td style="padding-top:14px;font-size:15px;line-height:1.6;color:#4a5568">Your Acme workspace is ready. Confirm your email address
            to finish setting up your account; the link is good for 24 hours.</td></tr>
            <tr><td style="padding-top:24px"><a href="https://app.acme.example/confirm?token=6f1c2a" style="display:inline-block;background:#4c6ef5;color:#ffffff;text-decoration:none;padding:12px 22px;border-radius:8px;font-weight:600">Confirm my email</a></td></tr>
            <tr><td style="padding-top:24px;font-size:14px;color:#4a5568">Or enter this code in the app: <b style="font-size:18px;letter-spacing:3px;color:#1d2330">482913</b></td></tr>
            <tr><td style="padding-top:30px;border-top:1px solid #e4e7ec;margin-top:30px;font-size:12px;color:#98a2b3">Acme Inc · 1 Market Street · You received this because you signed up at acme.example.</td></tr>
            </table></td></tr></table></body></html>
            """;
        var messages = new List<MimeMessage>
        {
            SmtpSend.Simple("bob@example.com", "Cron <root@build-01> nightly backup finished", "backup ok", from: "root@build-01.internal"),
            SmtpSend.Simple("ops@example.com", "Disk usage above 80% on db-2", "db-2 /var at 83%", from: "Monitoring <alerts@monitor.example>"),
            UiMail.Html("jordan@orders.localhost", "Order #1042 confirmed", "<p>Thanks for your order.</p>", text: "Thanks for your order.", from: "Acme Shop <orders@acme.example>",
                build: b => b.Attachments.Add("invoice-1042.pdf", "%PDF-1.4 sample"u8.ToArray(), new ContentType("application", "pdf"))),
            UiMail.Html("jordan@orders.localhost", "Your parcel is on its way", "<p>Tracking: 1Z999</p>", text: "Tracking: 1Z999", from: "Acme Shop <orders@acme.example>"),
            SmtpSend.Simple("jordan@signup.localhost", "Your sign-in code is 739204", "Your code: 739204", from: "Acme Security <security@acme.example>"),
            SmtpSend.Simple("Jordan Lee <jordan@signup.localhost>", "Reset your password", "Reset: https://app.acme.example/reset?t=1", from: "Acme Security <security@acme.example>"),
            UiMail.Html("jordan@signup.localhost", "Your trial ends in 14 days", "<p>Pick a plan.</p>", text: "Pick a plan.", from: "Acme Billing <billing@acme.example>",
                build: b => b.Attachments.Add("pricing.pdf", "%PDF-1.4 sample"u8.ToArray(), new ContentType("application", "pdf"))),
        };
        var welcomeMail = UiMail.Html("Jordan Lee <jordan@signup.localhost>", "Welcome to Acme, Jordan!", welcome,
            text: "Welcome aboard, Jordan. Confirm: https://app.acme.example/confirm?token=6f1c2a  Code: 482913",
            from: "Acme <welcome@acme.example>",
            build: b =>
            {
                var image = b.LinkedResources.Add("logo.svg", System.Text.Encoding.UTF8.GetBytes(logo), new ContentType("image", "svg+xml"));
                image.ContentId = "logo@acme.example";
            });
        welcomeMail.Headers.Add("X-Mailer", "Acme Notifications 4.2");
        welcomeMail.Headers.Add("List-Unsubscribe", "<https://app.acme.example/unsubscribe?u=jordan>");
        messages.Add(welcomeMail);
        await UiMail.SendManyAsync(Host.SmtpPort, messages);
    }
}
