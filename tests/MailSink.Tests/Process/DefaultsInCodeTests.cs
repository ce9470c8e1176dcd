using System.Text.Json;
using MailSink.Api;
using MailSink.Api.Outgoing;
using MailSink.Server;
using MailSink.Server.Smtp;
using MailSink.Storage;
using MailSink.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MailSink.Tests.Processes;

/// <summary>
/// The defaults live in code: a build run where there is no appsettings.json (a published build, the
/// dotnet tool) behaves as <c>dotnet run</c> from the repository, whose appsettings.json only shows them.
/// </summary>
public sealed class DefaultsInCodeTests
{
    /// <summary>Every option class and the log settings, as JSON, for an application built (not started) with these arguments.</summary>
    private static async Task<string> EffectiveSettingsAsync(string contentRoot, params string[] args)
    {
        await using var app = Program.Build([$"--contentRoot={contentRoot}", .. args]);
        var services = app.Services;
        var logging = app.Configuration.GetSection("Logging").AsEnumerable().Where(p => p.Value is not null).OrderBy(p => p.Key);
        return JsonSerializer.Serialize(new object[]
        {
            services.GetRequiredService<IOptions<SmtpOptions>>().Value,
            services.GetRequiredService<IOptions<StorageOptions>>().Value,
            services.GetRequiredService<IOptions<RoutingOptions>>().Value,
            services.GetRequiredService<IOptions<ApiOptions>>().Value,
            services.GetRequiredService<IOptions<RelayOptions>>().Value,
            services.GetRequiredService<IOptions<MailSink.Api.Webhooks.WebhookOptions>>().Value,
            services.GetRequiredService<IOptions<MailSink.Api.Chaos.ChaosOptions>>().Value,
            services.GetRequiredService<IOptions<MetricsOptions>>().Value,
            services.GetRequiredService<IOptions<MailSink.Api.Analysis.Deliverability.DeliverabilityOptions>>().Value,
            services.GetRequiredService<IOptions<MailSink.Api.Analysis.SpamAssassinOptions>>().Value,
            services.GetRequiredService<IOptions<MailSink.Api.Analysis.LinkCheckOptions>>().Value,
            services.GetRequiredService<IOptions<MailSink.Api.Analysis.PreviewOptions>>().Value,
            logging.ToList(),
            app.Configuration["Urls"] ?? "(none)",
        });
    }

    [Theory]
    [InlineData]
    [InlineData("--MailSink:Smtp:Listeners:2:Port=31465")]
    [InlineData("--MailSink:Smtp:Listeners:0:Port=2525", "--MailSink:Smtp:Listeners:1:Port=2587", "--MailSink:Smtp:Listeners:2:Port=2465")]
    [InlineData("--MailSink:Smtp:Listeners:0:Port=2525", "--MailSink:Smtp:Listeners:0:Tls=None", "--MailSink:Storage:MaxAge=1.00:00:00")]
    public async Task The_repository_settings_file_changes_nothing(params string[] args)
    {
        using var empty = new TempDirectory();
        Assert.False(File.Exists(Path.Combine(empty.Path, "appsettings.json")));
        Assert.True(File.Exists(Path.Combine(Repository.Root, "appsettings.json")));
        Assert.Equal(await EffectiveSettingsAsync(empty.Path, args), await EffectiveSettingsAsync(Repository.Root, args));
    }

    [Fact]
    public async Task Each_named_listener_starts_from_the_default_of_its_slot()
    {
        using var empty = new TempDirectory();
        await using var app = Program.Build([$"--contentRoot={empty.Path}", "--MailSink:Smtp:Listeners:2:Port=31465"]);
        var listener = Assert.Single(app.Services.GetRequiredService<IOptions<SmtpOptions>>().Value.Listeners);
        Assert.Equal((31465, TlsMode.Implicit, ListenerAuth.Optional), (listener.Port, listener.Tls, listener.Auth));

        await using var all = Program.Build([$"--contentRoot={empty.Path}"]);
        Assert.Equal(["25/StartTls/AUTH Optional", "587/StartTls/AUTH Optional", "465/Implicit/AUTH Optional"],
            all.Services.GetRequiredService<IOptions<SmtpOptions>>().Value.EffectiveListeners.Select(l => l.ToString()));
    }

    [Fact]
    public async Task Started_without_a_settings_file_the_three_slots_have_their_tls_modes()
    {
        await using var host = await MailSinkHost.StartAsync(
            "--MailSink:Smtp:Listeners:0:Port=0", "--MailSink:Smtp:Listeners:1:Port=0", "--MailSink:Smtp:Listeners:2:Port=0");
        Assert.Equal([TlsMode.StartTls, TlsMode.StartTls, TlsMode.Implicit], host.Listeners.Bound.Select(b => b.Options.Tls));
        Assert.False(File.Exists(Path.Combine(host.Root, "appsettings.json")));
        using var client = new MailKit.Net.Smtp.SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await client.ConnectAsync("127.0.0.1", host.ImplicitTlsPort, MailKit.Security.SecureSocketOptions.SslOnConnect);
        await client.SendAsync(SmtpSend.Simple("a@slots.localhost", "over implicit TLS", "x"));
        await client.DisconnectAsync(true);
        Assert.Single(await host.ListAsync("slots"));
    }
}
