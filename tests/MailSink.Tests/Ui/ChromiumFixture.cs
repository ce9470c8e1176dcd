using Microsoft.Playwright;

namespace MailSink.Tests.Ui;

/// <summary>
/// The browser tests' collection: every browser test shares one headless Chromium, their classes run one
/// after another, and the collection runs alone, after the parallel tests. The suite has two cores; a
/// browser rendering beside the CPU-heavy SMTP tests (a 1 MB header takes MimeKit seconds to parse) made
/// those miss their deadlines, and the competition would blur the UI's own latency measurements.
/// </summary>
[CollectionDefinition(nameof(BrowserCollection), DisableParallelization = true)]
public sealed class BrowserCollection : ICollectionFixture<ChromiumFixture>;

/// <summary>
/// Debian's Chromium (the <c>chromium</c> package, which .ci/run installs) driven by Playwright; never a
/// browser Playwright downloads. Playwright gives the browser a fresh temporary profile and removes it
/// when the browser closes; each test gets its own context (cookies, storage, permissions).
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    /// <summary>Where Debian puts it; <c>MAILSINK_CHROMIUM</c> points elsewhere (another OS, another build).</summary>
    public static readonly string ExecutablePath = Environment.GetEnvironmentVariable("MAILSINK_CHROMIUM") is { Length: > 0 } path ? path : "/usr/bin/chromium";

    private static readonly string[] Arguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"The web UI tests need Chromium at {ExecutablePath}, which is missing. Install Debian's package " +
                "(apt-get install chromium; .ci/run does), or set MAILSINK_CHROMIUM to a Chromium or Chrome executable.");
        }

        Assertions.SetDefaultExpectTimeout(10_000);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            ChromiumSandbox = false,
            Args = Arguments,
            Timeout = 30_000,
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
            await Browser.CloseAsync();
        _playwright?.Dispose();
    }
}
