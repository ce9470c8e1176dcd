using System.Net;
using System.Net.Sockets;
using System.Text;
using MailSink.Tests.Support;
using Microsoft.Playwright;
using MimeKit;
using static Microsoft.Playwright.Assertions;

namespace MailSink.Tests.Ui;

/// <summary>The message view in Chromium: the HTML preview's sandbox and policy, every tab, the downloads.</summary>
[Collection(nameof(BrowserCollection))]
public sealed class MessageViewTests(ChromiumFixture chromium, SharedHost shared, ITestOutputHelper output) : IClassFixture<SharedHost>
{
    private MailSinkHost Host => shared.Host;

    [Fact]
    public async Task The_html_tab_renders_the_mail_with_its_styles_and_images_and_its_scripts_never_run()
    {
        var inbox = MailSinkHost.NewInbox();
        const string html = """
            <html><head><style>h1 { color: rgb(200, 30, 40) }</style></head><body>
            <script>parent.document.title = 'pwned'; top.pwned = true; document.documentElement.setAttribute('data-script-ran', 'yes');</script>
            <h1>Welcome aboard</h1>
            <p id="styled" style="color: rgb(10, 120, 60)">Styled inline</p>
            <img id="logo" src="cid:logo@ui.test" alt="logo">
            <img id="broken" src="data:," onerror="parent.document.title = 'pwned'; document.documentElement.setAttribute('data-handler-ran', 'yes')">
            <a id="js-link" href="javascript:parent.document.title='pwned'">do not follow</a>
            <p id="last">The end.</p>
            </body></html>
            """;
        await SmtpSend.MessageAsync(Host.SmtpPort, UiMail.Html($"to@{inbox}.localhost", "Scripted welcome", html, build: body =>
        {
            var logo = body.LinkedResources.Add("logo.png", UiMail.Pixel, new ContentType("image", "png"));
            logo.ContentId = "logo@ui.test";
        }));

        await using var ui = await UiPage.OpenAsync(chromium, Host, output, $"/#/inbox/{inbox}");
        await ui.Page.EvaluateAsync("() => { window.pwned = undefined; }");
        await ui.OpenMessageAsync("Scripted welcome");
        var title = await ui.Page.TitleAsync();

        var frame = await ui.HtmlFrameAsync();
        await Expect(ui.HtmlFrame.Locator("h1")).ToHaveTextAsync("Welcome aboard");
        await Expect(ui.HtmlFrame.Locator("#last")).ToBeVisibleAsync(); // the parser is past the script
        await frame.WaitForLoadStateAsync(LoadState.Load);             // and past every image's load or error

        // It renders as the recipient sees it: the style sheet, the inline style, the cid: image.
        Assert.Equal("rgb(200, 30, 40)", await frame.EvaluateAsync<string>("() => getComputedStyle(document.querySelector('h1')).color"));
        Assert.Equal("rgb(10, 120, 60)", await frame.EvaluateAsync<string>("() => getComputedStyle(document.getElementById('styled')).color"));
        Assert.StartsWith("data:image/png;base64,", await frame.EvaluateAsync<string>("() => document.getElementById('logo').src"));
        Assert.Equal(1, await frame.EvaluateAsync<int>("() => document.getElementById('logo').naturalWidth"));

        // Nothing of the mail ran: not the script, not the handler, not in the frame and not in our page.
        Assert.Null(await frame.EvaluateAsync<string?>("() => document.documentElement.getAttribute('data-script-ran')"));
        Assert.Null(await frame.EvaluateAsync<string?>("() => document.documentElement.getAttribute('data-handler-ran')"));
        Assert.Equal(title, await ui.Page.TitleAsync());
        Assert.DoesNotContain("pwned", title);
        Assert.True(await ui.Page.EvaluateAsync<bool>("() => window.pwned === undefined"));
        Assert.Null(await frame.EvaluateAsync<string?>("() => document.getElementById('js-link').getAttribute('href')"));

        // Because the frame is sandboxed without scripts and is not our origin.
        var sandbox = await ui.Page.Locator("#html-frame").GetAttributeAsync("sandbox");
        Assert.NotNull(sandbox);
        Assert.DoesNotContain("allow-scripts", sandbox);
        Assert.DoesNotContain("allow-same-origin", sandbox);
        Assert.Equal("null", await frame.EvaluateAsync<string>("() => self.origin"));
        ui.AssertNoScriptErrors();
    }

    [Fact]
    public async Task Remote_images_are_not_fetched_until_the_person_asks()
    {
        using var remote = new TcpListener(IPAddress.Loopback, 0);
        remote.Start();
        var port = ((IPEndPoint)remote.LocalEndpoint).Port;
        var inbox = MailSinkHost.NewInbox();
        var html = $"""
            <p>Tracked</p><img id="pixel" src="http://127.0.0.1:{port}/pixel.png">
            <div style="background-image: url('http://127.0.0.1:{port}/background.png')">x</div>
            """;
        await SmtpSend.MessageAsync(Host.SmtpPort, UiMail.Html($"to@{inbox}.localhost", "Tracking pixel", html));

        await using var ui = await UiPage.OpenAsync(chromium, Host, output, $"/#/inbox/{inbox}");
        await ui.OpenMessageAsync("Tracking pixel");
        var frame = await ui.HtmlFrameAsync();
        await Expect(ui.HtmlFrame.Locator("#pixel")).ToBeAttachedAsync();
        // An allowed image holds up the load event until it loads or fails: loaded, nothing was asked for.
        await frame.WaitForLoadStateAsync(LoadState.Load);
        Assert.False(remote.Pending(), "the mail's remote image was requested before the person asked");
        await Expect(ui.Page.Locator(".remote-bar")).ToContainTextAsync("blocked");

        await ui.Page.Locator("#load-remote").ClickAsync();

        using var request = await remote.AcceptTcpClientAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var head = new byte[64];
        var read = await request.GetStream().ReadAsync(head).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.StartsWith("GET /", Encoding.ASCII.GetString(head, 0, read));
        await Expect(ui.Page.Locator(".remote-bar")).ToHaveCountAsync(0);
        ui.AssertNoScriptErrors();
    }

    [Fact]
    public async Task The_tabs_show_text_headers_raw_source_links_codes_and_the_envelope()
    {
        var inbox = MailSinkHost.NewInbox();
        var message = UiMail.Html(
            $"Reader <reader@{inbox}.localhost>",
            "Reset your password",
            """<p>Your code is <b>493817</b>.</p><p><a href="https://acme.example/reset?token=abc">Choose a new password</a></p>""",
            text: "Your code is 493817.\nChoose a new password: https://acme.example/reset?token=abc\n",
            from: "Acme Security <security@acme.example>");
        message.Headers.Add("X-Campaign", "password-reset-7");
        await UiMail.SendAuthenticatedAsync(Host.SmtpPort, message, ehlo: "ui-client.test", user: "alice");

        await using var ui = await UiPage.OpenAsync(chromium, Host, output, $"/#/inbox/{inbox}");
        await ui.OpenMessageAsync("Reset your password");

        await ui.Tab("text").ClickAsync();
        await Expect(ui.Panel.Locator("pre.body")).ToContainTextAsync("Your code is 493817.");
        await Expect(ui.Panel.Locator("pre.body a[href='https://acme.example/reset?token=abc']")).ToBeVisibleAsync();
        Assert.EndsWith("/text", ui.Page.Url);

        await ui.Tab("headers").ClickAsync();
        await Expect(ui.Panel.Locator("tr", new() { HasText = "X-Campaign" })).ToContainTextAsync("password-reset-7");
        await Expect(ui.Panel.Locator("tr", new() { HasText = "Subject" }).First).ToContainTextAsync("Reset your password");

        await ui.Tab("raw").ClickAsync();
        await Expect(ui.Page.Locator("#raw-source")).ToContainTextAsync("X-Campaign: password-reset-7");
        await Expect(ui.Page.Locator("#raw-source")).ToContainTextAsync("Subject: Reset your password");

        await ui.Tab("links").ClickAsync();
        var link = ui.Panel.Locator("tr", new() { HasText = "Choose a new password" });
        await Expect(link).ToContainTextAsync("https://acme.example/reset?token=abc");
        await Expect(link).ToContainTextAsync("HTML");

        await ui.Tab("codes").ClickAsync();
        await Expect(ui.Panel.Locator(".codes code")).ToHaveTextAsync("493817");

        await ui.Tab("envelope").ClickAsync();
        var envelope = ui.Page.Locator("#envelope");
        await Expect(envelope.Locator("tr[data-field='EHLO'] td")).ToHaveTextAsync("ui-client.test");
        await Expect(envelope.Locator("tr[data-field='MAIL FROM'] td")).ToHaveTextAsync("security@acme.example");
        await Expect(envelope.Locator("tr[data-field='RCPT TO'] td")).ToHaveTextAsync($"reader@{inbox}.localhost");
        await Expect(envelope.Locator("tr[data-field='TLS'] td")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^TLS 1\\.[23]$"));
        await Expect(envelope.Locator("tr[data-field='AUTH user'] td")).ToHaveTextAsync("alice");

        // The tab is in the address: a reload opens the same view.
        await ui.Page.ReloadAsync();
        await Expect(ui.Tab("envelope")).ToHaveAttributeAsync("aria-selected", "true");
        await Expect(ui.Page.Locator("#envelope tr[data-field='AUTH user'] td")).ToHaveTextAsync("alice");
        ui.AssertNoScriptErrors();
    }

    [Fact]
    public async Task Attachments_and_the_raw_message_download_byte_for_byte()
    {
        var inbox = MailSinkHost.NewInbox();
        // Binary, so that it travels base64 and must come back exactly (a text/* part's line ends become CRLF).
        var report = Enumerable.Range(0, 4096).Select(i => (byte)(i * 7 % 256)).ToArray();
        var reply = await SmtpSend.MessageAsync(Host.SmtpPort, UiMail.Html($"to@{inbox}.localhost", "Monthly report", "<p>Attached.</p>",
            build: body => body.Attachments.Add("report.bin", report, new ContentType("application", "octet-stream"))));
        var id = SmtpSend.StoredId(reply);

        await using var ui = await UiPage.OpenAsync(chromium, Host, output, $"/#/inbox/{inbox}");
        await Expect(ui.Row("Monthly report").Locator(".attachment-mark")).ToHaveTextAsync("1");
        await ui.OpenMessageAsync("Monthly report");
        await ui.Tab("attachments").ClickAsync();
        await Expect(ui.Panel.Locator("tr", new() { HasText = "report.bin" })).ToContainTextAsync("application/octet-stream");

        var attachment = await ui.Page.RunAndWaitForDownloadAsync(() => ui.Panel.Locator("a[data-attachment]").ClickAsync());
        Assert.Equal("report.bin", attachment.SuggestedFilename);
        Assert.Equal(report, await File.ReadAllBytesAsync(await attachment.PathAsync()));

        var eml = await ui.Page.RunAndWaitForDownloadAsync(() => ui.Page.Locator("#download-eml").ClickAsync());
        Assert.Equal($"{id}.eml", eml.SuggestedFilename);
        Assert.Equal(await Host.RawAsync(id), await File.ReadAllBytesAsync(await eml.PathAsync()));
        ui.AssertNoScriptErrors();
    }
}
