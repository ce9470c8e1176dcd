using System.Text;
using MailSink.Storage;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MailSink.Tests.Support;

/// <summary>The LiteDB engine alone, on a real file in a temp folder: store, writer and ingest.</summary>
public sealed class StorageHarness : IAsyncDisposable
{
    private readonly TempDirectory? _directory;

    /// <param name="rootDomains">Routing's root domains; <c>localhost</c> when null.</param>
    /// <param name="directory">A folder to keep the database in and reopen it from; a fresh temp folder, deleted at the end, when null.</param>
    /// <param name="searchCacheMegabytes"><see cref="StorageOptions.SearchCacheMegabytes"/>; its default when null.</param>
    public StorageHarness(string[]? rootDomains = null, string? directory = null, int? searchCacheMegabytes = null)
    {
        if (directory is null)
            _directory = new TempDirectory();
        directory ??= _directory!.Path;
        DatabasePath = Path.Combine(directory, "test.db");
        var options = new StorageOptions { Path = DatabasePath };
        if (searchCacheMegabytes is { } megabytes)
            options.SearchCacheMegabytes = megabytes;
        var storage = Options.Create(options);
        Store = new LiteDbStore(storage, new HostingEnvironment { ContentRootPath = directory }, TimeProvider.System, NullLogger<LiteDbStore>.Instance);
        Store.Open();
        Feed = new ArrivalFeed();
        Writer = new LiteDbWriter(Store, Feed, TimeProvider.System, storage, NullLogger<LiteDbWriter>.Instance);
        Writer.Start();
        var routing = Options.Create(new RoutingOptions { RootDomains = [.. rootDomains ?? ["localhost"]] });
        Ingest = new MessageIngest(Writer, new InboxRouter(routing), NullLogger<MessageIngest>.Instance);
    }

    public string DatabasePath { get; }

    internal LiteDbStore Store { get; }

    /// <summary>The store as every consumer sees it.</summary>
    public IMessageRepository Messages => Store;

    public IInboxRepository Inboxes => Store;

    public ArrivalFeed Feed { get; }

    internal LiteDbWriter Writer { get; }

    public MessageIngest Ingest { get; }

    public Task<StoredMessage> StoreAsync(string to, string subject, string body = "body", string from = "sender@example.com") =>
        StoreRawAsync(to, Encoding.UTF8.GetBytes($"From: {from}\r\nTo: {to}\r\nSubject: {subject}\r\n\r\n{body}\r\n"), from);

    /// <summary>Stores a whole message as given (headers and all) for one recipient.</summary>
    public async Task<StoredMessage> StoreRawAsync(string to, byte[] raw, string from = "sender@example.com")
    {
        var stored = await Ingest.IngestAsync(raw, new SmtpEnvelope(from, [to], "test", null, null, null, false), CancellationToken.None);
        return stored[0];
    }

    public async ValueTask DisposeAsync()
    {
        await Writer.StopAsync();
        Store.Dispose();
        _directory?.Dispose();
    }
}
