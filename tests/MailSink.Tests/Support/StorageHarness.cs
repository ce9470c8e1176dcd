using System.Text;
using MailSink.Storage;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MailSink.Tests.Support;

/// <summary>The storage layer alone, on a real LiteDB file in a temp folder: repository, writer and ingest.</summary>
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
        Repository = new MessageRepository(storage, new HostingEnvironment { ContentRootPath = directory }, NullLogger<MessageRepository>.Instance);
        Feed = new ArrivalFeed();
        Writer = new MessageWriter(Repository, Feed, TimeProvider.System, storage, NullLogger<MessageWriter>.Instance);
        Writer.Start();
        var routing = Options.Create(new RoutingOptions { RootDomains = [.. rootDomains ?? ["localhost"]] });
        Ingest = new MessageIngest(Writer, new InboxRouter(routing), NullLogger<MessageIngest>.Instance);
    }

    public string DatabasePath { get; }

    public MessageRepository Repository { get; }

    public ArrivalFeed Feed { get; }

    public MessageWriter Writer { get; }

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
        Repository.Dispose();
        _directory?.Dispose();
    }
}
