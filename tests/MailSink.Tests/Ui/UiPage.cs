using MailSink.Tests.Support;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace MailSink.Tests.Ui;

/// <summary>
/// One browser tab on a MailSink's web UI, in its own context (fresh local storage). The page's console
/// errors and uncaught exceptions go to the test output; <see cref="AssertNoScriptErrors"/> fails a test
/// whose page threw.
/// </summary>
internal sealed class UiPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];

    private UiPage(IBrowserContext context, IPage page, ITestOutputHelper output)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
                output.WriteLine($"[browser {message.Type}] {message.Text}");
        };
        page.PageError += (_, error) =>
        {
            lock (_errors)
                _errors.Add(error);
            output.WriteLine($"[browser exception] {error}");
        };
    }

    public IPage Page { get; }

    public IBrowserContext Context => _context;

    /// <summary>
    /// Opens <paramref name="path"/> (such as <c>/#/inbox/abc</c>) and, unless told not to, waits until the live stream is connected.
    /// <paramref name="prepare"/> runs on the new context before the page loads (to route its requests, say).
    /// </summary>
    public static async Task<UiPage> OpenAsync(ChromiumFixture chromium, MailSinkHost host, ITestOutputHelper output, string path = "/", bool waitUntilLive = true, BrowserNewContextOptions? options = null, Func<IBrowserContext, Task>? prepare = null)
    {
        options ??= new BrowserNewContextOptions();
        options.BaseURL = host.BaseUrl;
        options.ViewportSize ??= new ViewportSize { Width = 1280, Height = 800 };
        options.AcceptDownloads = true;
        var context = await chromium.Browser.NewContextAsync(options);
        context.SetDefaultTimeout(10_000);
        if (prepare is not null)
            await prepare(context);
        var page = new UiPage(context, await context.NewPageAsync(), output);
        await page.Page.GotoAsync(path);
        if (waitUntilLive)
            await page.WaitUntilLiveAsync();
        return page;
    }

    /// <summary>The server has subscribed this page to arrivals (the stream's headers have come).</summary>
    public Task WaitUntilLiveAsync() => Expect(Page.Locator("#live")).ToHaveAttributeAsync("data-state", "live");

    public ILocator Rows => Page.Locator("#message-list a");

    public ILocator Row(string subject) => Page.Locator("#message-list a", new() { HasText = subject });

    public ILocator InboxLink(string inbox) => Page.Locator($"#inbox-list a[data-inbox='{inbox}']");

    public ILocator Tab(string name) => Page.Locator($".tabs button[data-tab='{name}']");

    public ILocator Panel => Page.Locator("#message-pane .tab-panel");

    public IFrameLocator HtmlFrame => Page.FrameLocator("#html-frame");

    /// <summary>The preview frame, once it shows the mail (its srcdoc is set after cid: images are inlined).</summary>
    public async Task<IFrame> HtmlFrameAsync()
    {
        var handle = await Page.Locator("#html-frame").ElementHandleAsync();
        var frame = await handle.ContentFrameAsync() ?? throw new Xunit.Sdk.XunitException("The preview iframe has no frame.");
        await Expect(HtmlFrame.Locator("body")).ToBeAttachedAsync();
        return frame;
    }

    public async Task OpenMessageAsync(string subject)
    {
        await Row(subject).ClickAsync();
        await Expect(Page.Locator("#message-subject")).ToHaveTextAsync(subject);
    }

    public void AssertNoScriptErrors()
    {
        lock (_errors)
            Assert.True(_errors.Count == 0, "The page threw: " + string.Join(" | ", _errors));
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
