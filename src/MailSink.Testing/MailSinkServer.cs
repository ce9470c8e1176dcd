using MailSink.Server.Smtp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Testing;

/// <summary>How a <see cref="MailSinkServer"/> starts.</summary>
public sealed class MailSinkServerOptions
{
    /// <summary>Any MailSink setting, by its key (<c>MailSink:Api:ApiKey</c>, <c>MailSink:Chaos:Rules:0:Stage</c>…).</summary>
    public IDictionary<string, string> Settings { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Where the store and certificate go; a new temporary folder (deleted on dispose) when null.</summary>
    public string? DataFolder { get; set; }

    /// <summary>
    /// Changes to MailSink's services, made after its own registrations, so that a service registered here
    /// replaces MailSink's (the last registration wins). For example the test's own clock, which dates the
    /// mail MailSink receives: <c>ConfigureServices = s => s.AddSingleton&lt;TimeProvider&gt;(clock)</c>.
    /// Null: MailSink's services as they are.
    /// </summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }
}

/// <summary>
/// A real MailSink running inside the test process: SMTP on free ports of 127.0.0.1 (plain text, STARTTLS
/// and implicit TLS, AUTH optional, any credentials), the HTTP API on another, a throwaway store. Start
/// one per test class or per test run; dispose it to stop it.
/// <code>
/// await using var mail = await MailSinkServer.StartAsync();
/// var inbox = mail.Client.NewInbox();
/// // … the code under test sends to inbox.Address("alice") through mail.SmtpHost:mail.SmtpPort …
/// var link = await mail.Client.WaitForLinkAsync(inbox.Address("alice"));
/// </code>
/// </summary>
public sealed class MailSinkServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string? _ownedFolder;

    private MailSinkServer(WebApplication app, string folder, bool ownsFolder, string? apiKey)
    {
        _app = app;
        _ownedFolder = ownsFolder ? folder : null;
        DataFolder = folder;
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        BaseUrl = address.TrimEnd('/') + "/";
        var listeners = app.Services.GetRequiredService<SmtpListeners>().Bound;
        SmtpPort = listeners.First(l => l.Options.Tls == TlsMode.None).EndPoint.Port;
        StartTlsPort = listeners.First(l => l.Options.Tls == TlsMode.StartTls).EndPoint.Port;
        ImplicitTlsPort = listeners.First(l => l.Options.Tls == TlsMode.Implicit).EndPoint.Port;
        Client = new MailSinkClient(BaseUrl, apiKey);
    }

    /// <summary>The HTTP API's base URL, ending with a slash (what Mailosaur's clients take too).</summary>
    public string BaseUrl { get; }

#pragma warning disable CA1822 // an instance member on purpose: where this server's SMTP is, should that ever not be loopback
    public string SmtpHost => "127.0.0.1";
#pragma warning restore CA1822

    /// <summary>Plain-text SMTP (no TLS needed); AUTH is optional and any credentials are taken.</summary>
    public int SmtpPort { get; }

    /// <summary>SMTP with STARTTLS (a self-signed certificate: tell the client to accept it).</summary>
    public int StartTlsPort { get; }

    /// <summary>SMTP over TLS from the first byte (port 465's kind).</summary>
    public int ImplicitTlsPort { get; }

    public string DataFolder { get; }

    /// <summary>A client for this MailSink's API.</summary>
    public MailSinkClient Client { get; }

    /// <summary>The application's services (its <c>ArrivalFeed</c>, its options…), for tests that look inside.</summary>
    public IServiceProvider Services => _app.Services;

    public static async Task<MailSinkServer> StartAsync(MailSinkServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new MailSinkServerOptions();
        var owns = options.DataFolder is null;
        var folder = options.DataFolder ?? Path.Combine(Path.GetTempPath(), "mailsink-testing", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["urls"] = "http://127.0.0.1:0",
            ["MailSink:Smtp:BindAddress"] = "127.0.0.1",
            ["MailSink:Smtp:Listeners:0:Port"] = "0",
            ["MailSink:Smtp:Listeners:0:Tls"] = "None",
            ["MailSink:Smtp:Listeners:1:Port"] = "0",
            ["MailSink:Smtp:Listeners:1:Tls"] = "StartTls",
            ["MailSink:Smtp:Listeners:2:Port"] = "0",
            ["MailSink:Smtp:Listeners:2:Tls"] = "Implicit",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in options.Settings)
            settings[key] = value;

        var app = MailSink.Server.Program.Build([$"--contentRoot={folder}", .. settings.Select(s => $"--{s.Key}={s.Value}")], options.ConfigureServices);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new MailSinkServer(app, folder, owns, settings.GetValueOrDefault("MailSink:Api:ApiKey") is { Length: > 0 } apiKey ? apiKey : null);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        if (_ownedFolder is not null)
        {
            try
            {
                Directory.Delete(_ownedFolder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
