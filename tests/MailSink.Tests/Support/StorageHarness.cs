using System.Text;
using MailSink.Storage;
using MailSink.Storage.PostgreSql;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace MailSink.Tests.Support;

/// <summary>
/// A storage engine alone, as every consumer sees it through the seam: repositories, ingest, the arrival
/// feed and retention. LiteDB on a real file in a temp folder (the constructor; its internals on
/// <see cref="Store"/> and <see cref="Writer"/>), or PostgreSQL in a test class's own database
/// (<see cref="StartAsync"/>; emptied first, so each harness starts as a new LiteDB file does).
/// </summary>
public sealed class StorageHarness : IAsyncDisposable
{
    private readonly TempDirectory? _directory;
    private readonly LiteDbStore? _liteDb;
    private readonly LiteDbWriter? _liteDbWriter;
    private readonly PostgreSqlStore? _postgreSql;
    private readonly PostgreSqlHostedService? _postgreSqlService;
    private readonly PostgreSqlListener? _postgreSqlListener;
    private readonly PostgreSqlWriter? _postgreSqlWriter;

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
        _liteDb = new LiteDbStore(storage, new HostingEnvironment { ContentRootPath = directory }, TimeProvider.System, NullLogger<LiteDbStore>.Instance);
        _liteDb.Open();
        Feed = new ArrivalFeed();
        _liteDbWriter = new LiteDbWriter(_liteDb, Feed, TimeProvider.System, storage, NullLogger<LiteDbWriter>.Instance);
        _liteDbWriter.Start();
        (Engine, Messages, Inboxes, Retention, Devices, Usage, Analyses) = (StorageEngine.LiteDb, _liteDb, _liteDb, _liteDb, _liteDb, _liteDb, _liteDb);
        Ingest = new MessageIngest(_liteDbWriter, Router(rootDomains), NullLogger<MessageIngest>.Instance);
    }

    private StorageHarness(PostgreSqlStore store, PostgreSqlWriter writer, PostgreSqlListener listener, PostgreSqlHostedService service, ArrivalFeed feed, string[]? rootDomains)
    {
        DatabasePath = "";
        (_postgreSql, _postgreSqlService, _postgreSqlListener, _postgreSqlWriter, Feed) = (store, service, listener, writer, feed);
        (Engine, Messages, Inboxes, Retention, Devices, Usage, Analyses) = (StorageEngine.PostgreSql, store, store, store, store, store, store);
        Ingest = new MessageIngest(writer, Router(rootDomains), NullLogger<MessageIngest>.Instance);
    }

    /// <summary>
    /// The engine's store: LiteDB in a new temp folder, or PostgreSQL in <paramref name="database"/>, emptied
    /// first and started as the host starts it (schema, writer, arrival listener).
    /// </summary>
    /// <param name="emptyFirst">False: a second node on the same database, which keeps what the first one holds.</param>
    /// <param name="bodySearchIndex">PostgreSQL's <see cref="PostgreSqlOptions.BodySearchIndex"/>.</param>
    /// <param name="connectionString">Another way to <paramref name="database"/> (through a <see cref="TcpRelay"/>, say).</param>
    /// <param name="listenerFallback">How long the arrival listener waits for another node's notification before it reads anyway.</param>
    /// <param name="lookForOthersEvery">How often the writer looks whether another node listens (<see cref="PostgreSqlWriter.LookForOthersEvery"/>).</param>
    public static async Task<StorageHarness> StartAsync(
        StorageEngine engine, PostgreSqlDatabase? database = null, string[]? rootDomains = null, bool emptyFirst = true, bool bodySearchIndex = true,
        string? connectionString = null, TimeSpan? listenerFallback = null, TimeSpan? lookForOthersEvery = null)
    {
        if (engine == StorageEngine.LiteDb)
            return new StorageHarness(rootDomains);
        ArgumentNullException.ThrowIfNull(database);
        var options = Options.Create(new StorageOptions
        {
            Engine = StorageEngine.PostgreSql,
            PostgreSql = new PostgreSqlOptions { ConnectionString = connectionString ?? database.ConnectionString, BodySearchIndex = bodySearchIndex },
        });
        var store = new PostgreSqlStore(options, NullLoggerFactory.Instance);
        try
        {
            await Migrations.ApplyAsync(store.DataSource, CancellationToken.None);
            if (emptyFirst)
            {
                await using var empty = store.DataSource.CreateCommand("TRUNCATE analyses, messages, contents, inboxes, devices; UPDATE clock SET stored_bytes = 0");
                await empty.ExecuteNonQueryAsync();
            }

            var feed = new ArrivalFeed();
            var listener = new PostgreSqlListener(store, feed, NullLogger<PostgreSqlListener>.Instance, TimeProvider.System)
            {
                Fallback = listenerFallback ?? PostgreSqlListener.DefaultFallback,
            };
            var writer = new PostgreSqlWriter(store, listener, feed, options, NullLogger<PostgreSqlWriter>.Instance)
            {
                LookForOthersEvery = lookForOthersEvery ?? PostgreSqlWriter.DefaultLookForOthersEvery,
            };
            var service = new PostgreSqlHostedService(store, writer, listener, NullLogger<PostgreSqlHostedService>.Instance);
            await service.StartAsync(CancellationToken.None);
            return new StorageHarness(store, writer, listener, service, feed, rootDomains);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    private static InboxRouter Router(string[]? rootDomains) =>
        new(Options.Create(new RoutingOptions { RootDomains = [.. rootDomains ?? ["localhost"]] }));

    public StorageEngine Engine { get; }

    /// <summary>The LiteDB file (LiteDB only).</summary>
    public string DatabasePath { get; }

    /// <summary>The LiteDB store's internals, for LiteDB's own tests.</summary>
    internal LiteDbStore Store => _liteDb ?? throw new InvalidOperationException("This harness runs PostgreSQL, not LiteDB.");

    internal LiteDbWriter Writer => _liteDbWriter ?? throw new InvalidOperationException("This harness runs PostgreSQL, not LiteDB.");

    /// <summary>The PostgreSQL store's internals, for PostgreSQL's own tests.</summary>
    internal PostgreSqlStore PostgreSql => _postgreSql ?? throw new InvalidOperationException("This harness runs LiteDB, not PostgreSQL.");

    /// <summary>The PostgreSQL node's writer, for PostgreSQL's own tests.</summary>
    internal PostgreSqlWriter PostgreSqlWriter => _postgreSqlWriter ?? throw new InvalidOperationException("This harness runs LiteDB, not PostgreSQL.");

    /// <summary>The PostgreSQL node's arrival listener, for PostgreSQL's own tests.</summary>
    internal PostgreSqlListener PostgreSqlListener => _postgreSqlListener ?? throw new InvalidOperationException("This harness runs LiteDB, not PostgreSQL.");

    /// <summary>The store as every consumer sees it.</summary>
    public IMessageRepository Messages { get; }

    public IInboxRepository Inboxes { get; }

    public IDeviceRepository Devices { get; }

    public IUsageReader Usage { get; }

    public IAnalysisStore Analyses { get; }

    internal IRetentionStore Retention { get; }

    public ArrivalFeed Feed { get; }

    public MessageIngest Ingest { get; }

    /// <summary>What the store holds as <c>MaxTotalBytes</c> counts it.</summary>
    public Task<long> StoredBytesAsync() => Retention.StoredBytesAsync(CancellationToken.None);

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
        Ingest.Dispose();
        if (_postgreSqlService is not null)
        {
            await _postgreSqlService.StopAsync(CancellationToken.None);
            return;
        }

        await Writer.StopAsync();
        Store.Dispose();
        _directory?.Dispose();
    }
}
