using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MailSink.Tests.Api;
using MailSink.Tests.Support;
using MimeKit;
using static Microsoft.Playwright.Assertions;

namespace MailSink.Tests.Ui;

/// <summary>With MailSink:Api:ApiKey set: the page asks for the key once, keeps it, and sends it with every call.</summary>
[Collection(nameof(BrowserCollection))]
public sealed class ApiKeyUiTests(ChromiumFixture chromium, ApiKeyAndOpenApiTests.KeyedHost keyed, ITestOutputHelper output)
    : IClassFixture<ApiKeyAndOpenApiTests.KeyedHost>
{
    private const string Key = ApiKeyAndOpenApiTests.Key;

    private MailSinkHost Host => keyed.Host;

    private static AuthenticationHeaderValue Basic(string key) => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key}:")));

    [Fact]
    public async Task The_event_stream_needs_the_key_in_the_header_like_the_rest_of_the_api()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Http.GetAsync("/api/events")).StatusCode);
        // The key is not taken from the query string: it would end up in logs and browser history.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Host.Http.GetAsync($"/api/events?key={Key}")).StatusCode);

        var inbox = MailSinkHost.NewInbox();
        using var stream = await EventsApiTests.EventStream.OpenAsync(Host.Http, $"/api/events?server={inbox}", Basic(Key));
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"x@{inbox}.localhost", "keyed event", "x"));
        Assert.Equal("keyed event", (await stream.NextMessageAsync()).GetProperty("subject").GetString());
    }

    [Fact]
    public async Task The_page_asks_for_the_key_once_keeps_it_and_sends_it_with_every_call()
    {
        var inbox = MailSinkHost.NewInbox();
        var payload = Enumerable.Range(0, 2048).Select(i => (byte)(i * 13 % 256)).ToArray();
        await SmtpSend.MessageAsync(Host.SmtpPort, UiMail.Html($"x@{inbox}.localhost", "Behind the key", "<p>secret</p>",
            build: body => body.Attachments.Add("secret.bin", payload, new ContentType("application", "octet-stream"))));

        await using var ui = await UiPage.OpenAsync(chromium, Host, output, $"/#/inbox/{inbox}", waitUntilLive: false);
        var dialog = ui.Page.Locator("#key-dialog");
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog).ToContainTextAsync("requires its API key");

        await ui.Page.Locator("#key-input").FillAsync("not-the-key");
        await ui.Page.Locator("#key-save").ClickAsync();
        await Expect(dialog.Locator("#key-reason")).ToContainTextAsync("refused");

        await ui.Page.Locator("#key-input").FillAsync(Key);
        await ui.Page.Locator("#key-save").ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        await ui.WaitUntilLiveAsync();
        await Expect(ui.Row("Behind the key")).ToBeVisibleAsync();
        Assert.Equal(Key, await ui.Page.EvaluateAsync<string>("() => localStorage.getItem('mailsink.apiKey')"));

        // The live stream carries the key too.
        await SmtpSend.MessageAsync(Host.SmtpPort, SmtpSend.Simple($"x@{inbox}.localhost", "Streamed with the key", "x"));
        await Expect(ui.Row("Streamed with the key")).ToBeVisibleAsync();

        // Downloads fetch with the key (a plain link would get a 401).
        await ui.OpenMessageAsync("Behind the key");
        await ui.Tab("attachments").ClickAsync();
        var download = await ui.Page.RunAndWaitForDownloadAsync(() => ui.Panel.Locator("a[data-attachment]").ClickAsync());
        Assert.Equal("secret.bin", download.SuggestedFilename);
        Assert.Equal(payload, await File.ReadAllBytesAsync(await download.PathAsync()));

        // Kept: a reload asks nothing.
        await ui.Page.ReloadAsync();
        await ui.WaitUntilLiveAsync();
        await Expect(ui.Page.Locator("#message-subject")).ToHaveTextAsync("Behind the key");
        await Expect(dialog).ToBeHiddenAsync();

        // Until the person forgets it.
        await ui.Page.Locator("#forget-key").ClickAsync();
        await Expect(dialog).ToBeVisibleAsync();
        Assert.Null(await ui.Page.EvaluateAsync<string?>("() => localStorage.getItem('mailsink.apiKey')"));
        ui.AssertNoScriptErrors();
    }
}
