using System.Diagnostics;
using MailSink.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailSink.Api.Analysis;

/// <summary>The <c>MailSink:Analysis:Previews</c> section.</summary>
public sealed class PreviewOptions
{
    public const string Section = "MailSink:Analysis:Previews";

    /// <summary>The Chromium (or Chrome) executable; empty: <c>chromium</c>, <c>chromium-browser</c> or <c>google-chrome</c> on the PATH.</summary>
    public string Chromium { get; set; } = "";

    /// <summary>How long one rendering may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Finished previews kept in memory (the oldest go first).</summary>
    public int MaxKept { get; set; } = 200;
}

/// <summary>
/// A way of rendering a message: a browser window of a size, light or forced dark, with or without images.
/// Named for what it is (Chromium's rendering), not for a mail client it is not.
/// </summary>
public sealed record PreviewProfile(string Name, string Label, int Width, int Height, bool Dark, bool NoImages);

public sealed record EmailClientDto(string Label, string Name);

public sealed record PreviewDto(string Id, string EmailClient, bool DisableImages);

/// <summary>
/// Previews: a message's HTML rendered by headless Chromium into a PNG per profile, one rendering at a
/// time, in the background; the PNGs are kept in memory (the newest <see cref="PreviewOptions.MaxKept"/>).
/// Scripts never run; remote images load unless the profile turns images off.
/// </summary>
public sealed partial class Previews(IOptions<PreviewOptions> options, IMessageRepository messages, ILogger<Previews> logger)
{
    public static readonly IReadOnlyList<PreviewProfile> Profiles =
    [
        new("mailsink-desktop-light", "MailSink: Chromium, desktop 1280×1024, light", 1280, 1024, false, false),
        new("mailsink-desktop-dark", "MailSink: Chromium, desktop 1280×1024, forced dark mode", 1280, 1024, true, false),
        new("mailsink-desktop-no-images", "MailSink: Chromium, desktop 1280×1024, images off", 1280, 1024, false, true),
        new("mailsink-mobile-light", "MailSink: Chromium, phone 390×844, light", 390, 844, false, false),
        new("mailsink-mobile-dark", "MailSink: Chromium, phone 390×844, forced dark mode", 390, 844, true, false),
    ];

    private const string NoScripts = "<meta http-equiv=\"Content-Security-Policy\" content=\"script-src 'none'; object-src 'none'; frame-src 'none'\">";

    private static readonly SemaphoreSlim OneAtATime = new(1, 1);
    private static readonly string[] BrowserNames = ["chromium", "chromium-browser", "google-chrome"];
    private readonly NewestKept<Task<byte[]>> _previews = new(() => options.Value.MaxKept);

    /// <summary>The Chromium to run, or null when none is found.</summary>
    public string? Chromium
    {
        get
        {
            if (!string.IsNullOrWhiteSpace(options.Value.Chromium))
                return File.Exists(options.Value.Chromium) ? options.Value.Chromium : null;
            var path = Environment.GetEnvironmentVariable("PATH") ?? "";
            return BrowserNames
                .SelectMany(name => path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(dir => Path.Combine(dir, name)))
                .FirstOrDefault(File.Exists);
        }
    }

    /// <summary>Starts a rendering per profile (in the background); the previews' ids at once.</summary>
    public IReadOnlyList<PreviewDto> Start(string messageId, IReadOnlyList<PreviewProfile> profiles, string chromium)
    {
        var started = new List<PreviewDto>();
        foreach (var profile in profiles)
        {
            var id = Guid.NewGuid().ToString();
            _previews.Add(id, Task.Run(() => RenderAsync(messageId, profile, chromium)));
            started.Add(new PreviewDto(id, profile.Name, profile.NoImages));
        }

        return started;
    }

    /// <summary>Null: unknown; a task not yet complete: still rendering.</summary>
    public Task<byte[]>? Find(string id) => _previews.Find(id);

    private async Task<byte[]> RenderAsync(string messageId, PreviewProfile profile, string chromium)
    {
        var message = await messages.GetAsync(messageId, CancellationToken.None) ?? throw new PreviewException("The message was deleted before it was rendered.");
        var folder = Directory.CreateTempSubdirectory("mailsink-preview-");
        try
        {
            var page = Path.Combine(folder.FullName, "message.html");
            var html = message.Html ?? $"<pre style=\"white-space:pre-wrap;font-family:sans-serif\">{System.Net.WebUtility.HtmlEncode(message.Text ?? "")}</pre>";
            // No script runs, as in a mail client. (Chromium's scriptEnabled=false also stops its own screenshot.)
            html = NoScripts + html;
            await File.WriteAllTextAsync(page, html);
            var png = Path.Combine(folder.FullName, "preview.png");
            await OneAtATime.WaitAsync();
            try
            {
                await RunChromiumAsync(chromium, profile, page, png, folder.FullName);
            }
            finally
            {
                OneAtATime.Release();
            }

            return File.Exists(png) ? await File.ReadAllBytesAsync(png) : throw new PreviewException("Chromium wrote no screenshot.");
        }
        catch (Exception ex) when (ex is not PreviewException)
        {
            Log.RenderFailed(logger, messageId, profile.Name, ex);
            throw new PreviewException($"The preview could not be rendered: {ex.Message}");
        }
        finally
        {
            try
            {
                folder.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task RunChromiumAsync(string chromium, PreviewProfile profile, string page, string png, string folder)
    {
        var start = new ProcessStartInfo(chromium) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        var settings = new List<string> { "javascriptCanAccessClipboard=false" };
        if (profile.NoImages)
            settings.Add("imagesEnabled=false");
        if (profile.Dark)
            settings.Add("forceDarkModeEnabled=true");
        foreach (var argument in new[]
                 {
                     "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio", "--no-first-run",
                     "--disable-extensions", "--disable-background-networking", "--disable-sync", "--no-default-browser-check",
                     $"--user-data-dir={Path.Combine(folder, "profile")}", $"--window-size={profile.Width},{profile.Height}",
                     $"--blink-settings={string.Join(',', settings)}", profile.Dark ? "--force-dark-mode" : "--force-color-profile=srgb",
                     $"--screenshot={png}", new Uri(page).AbsoluteUri,
                 })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new PreviewException($"{chromium} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(options.Value.Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new PreviewException($"Chromium did not finish within {options.Value.Timeout.TotalSeconds:0} s.");
        }

        await Task.WhenAll(output, errors);
        if (process.ExitCode != 0)
            throw new PreviewException($"Chromium exited with {process.ExitCode}: {errors.Result.Split('\n').LastOrDefault(l => l.Trim().Length > 0)}");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 430, Level = LogLevel.Warning, Message = "Preview of message {MessageId} as {Profile} failed")]
        public static partial void RenderFailed(ILogger logger, string messageId, string profile, Exception exception);
    }
}

/// <summary>A preview could not be rendered; the message says why.</summary>
public sealed class PreviewException(string message) : Exception(message);
