using System.Net.Http.Json;
using System.Text.Json;
using MailSink.Server;
using MailSink.Server.Smtp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Tests.Support;

/// <summary>
/// The whole MailSink application, in process, on ephemeral ports of 127.0.0.1, with its own data and
/// certs folder: the same composition root as the executable, started the same way.
/// </summary>
public sealed class MailSinkHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDirectory _root;

    private MailSinkHost(WebApplication app, TempDirectory root)
    {
        _app = app;
        _root = root;
        Listeners = app.Services.GetRequiredService<SmtpListeners>();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        BaseUrl = address.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "127.0.0.1", StringComparison.Ordinal);
        Http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The default test listeners: STARTTLS, implicit TLS, plain with AUTH required.</summary>
    public static readonly string[] DefaultListeners =
    [
        "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:0:Tls=StartTls", "--MailSink:Smtp:Listeners:0:Auth=Optional",
        "--MailSink:Smtp:Listeners:1:Port=0", "--MailSink:Smtp:Listeners:1:Tls=Implicit", "--MailSink:Smtp:Listeners:1:Auth=Optional",
        "--MailSink:Smtp:Listeners:2:Port=0", "--MailSink:Smtp:Listeners:2:Tls=None", "--MailSink:Smtp:Listeners:2:Auth=Required",
    ];

    /// <summary>The host's content root, a folder of its own removed when the host is disposed.</summary>
    public string Root => _root.Path;

    public string BaseUrl { get; }

    public HttpClient Http { get; }

    public SmtpListeners Listeners { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The STARTTLS listener, AUTH optional (what ports 25 and 587 are by default).</summary>
    public int SmtpPort => Listeners.PortOf(TlsMode.StartTls);

    public int ImplicitTlsPort => Listeners.PortOf(TlsMode.Implicit);

    public int AuthRequiredPort => Listeners.PortOf(TlsMode.None, ListenerAuth.Required);

    public static Task<MailSinkHost> StartAsync(params string[] settings) => StartAsync(null, settings);

    /// <summary>
    /// A MailSink whose services <paramref name="configureServices"/> changes after MailSink's own registrations
    /// (what it registers replaces MailSink's): for a test that puts a fault where the application would meet it.
    /// </summary>
    public static async Task<MailSinkHost> StartAsync(Action<IServiceCollection>? configureServices, params string[] settings)
    {
        var root = new TempDirectory();
        var args = new List<string>
        {
            $"--contentRoot={root.Path}",
            "--urls=http://127.0.0.1:0",
            "--MailSink:Smtp:BindAddress=127.0.0.1",
            "--Logging:LogLevel:Default=Warning",
        };
        if (!settings.Any(s => s.StartsWith("--MailSink:Smtp:Listeners", StringComparison.Ordinal)))
            args.AddRange(DefaultListeners);
        args.AddRange(settings);

        WebApplication? app = null;
        try
        {
            app = Program.Build([.. args], configureServices);
            await app.StartAsync();
        }
        catch
        {
            // A build or start that fails (what some tests expect) leaves its folder behind otherwise: one a test run.
            if (app is not null)
                await app.DisposeAsync();
            root.Dispose();
            throw;
        }

        return new MailSinkHost(app, root);
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await Http.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>Summaries of one inbox, newest first, through the HTTP API.</summary>
    public async Task<JsonElement[]> ListAsync(string inbox) =>
        [.. (await GetJsonAsync($"/api/messages?server={Uri.EscapeDataString(inbox)}")).GetProperty("items").EnumerateArray()];

    /// <summary>The only message of an inbox, in full, through the HTTP API.</summary>
    public async Task<JsonElement> SingleMessageAsync(string inbox)
    {
        var items = await ListAsync(inbox);
        Assert.Single(items);
        return await GetJsonAsync($"/api/messages/{items[0].GetProperty("id").GetString()}");
    }

    public async Task<byte[]> RawAsync(string messageId)
    {
        using var response = await Http.GetAsync($"/api/files/email/{messageId}");
        Assert.True(response.IsSuccessStatusCode, $"raw message {messageId}: {(int)response.StatusCode}");
        return await response.Content.ReadAsByteArrayAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _root.Dispose();
    }

    /// <summary>A fresh inbox name, so tests sharing a host never see each other's mail.</summary>
    public static string NewInbox() => "t" + Guid.NewGuid().ToString("N")[..10];
}
