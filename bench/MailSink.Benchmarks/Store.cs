using MailSink.Storage;
using MailSink.Storage.Ingest;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MailSink.Benchmarks;

/// <summary>
/// MailSink's storage as the server composes it (AddMailSinkStorage: the LiteDB engine, group-commit writer,
/// ingest), on a LiteDB file in a fresh temporary folder, started through the public host API.
/// </summary>
public sealed class Store : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _folder;

    private Store(IHost host, string folder)
    {
        _host = host;
        _folder = folder;
    }

    public MessageIngest Ingest => _host.Services.GetRequiredService<MessageIngest>();

    public IMessageRepository Messages => _host.Services.GetRequiredService<IMessageRepository>();

    public static async Task<Store> StartAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "mailsink-benchmarks-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { ContentRootPath = folder, DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["MailSink:Storage:Path"] = Path.Combine(folder, "bench.db"),
        });
        builder.Logging.ClearProviders();
        builder.Services.AddMailSinkStorage(builder.Configuration);
        var host = builder.Build();
        await host.StartAsync();
        return new Store(host, folder);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
