using LiteDB;
using LiteDB.Engine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailSink.Storage;

/// <summary>
/// The LiteDB file: <c>messages</c> (parsed documents without the bodies, keyed by inbox and time),
/// <c>raw</c> (raw bytes as BSON binary, Brotli-compressed, in chunks under LiteDB's document limit; see
/// <see cref="RawMessage"/>) and <c>inboxes</c> (with message counters).
/// Writes come from <see cref="MessageWriter"/>'s single thread in batches; reads from any thread.
/// </summary>
public sealed partial class MessageRepository : IDisposable
{
    private readonly ILogger<MessageRepository> _logger;
    private LiteDatabase _db = null!;
    private ILiteCollection<StoredMessage> _messages = null!;
    private ILiteCollection<BsonDocument> _messageDocuments = null!;

    // LiteDB's FindById parses "_id = @0" into an expression on every call, reflection included (a tenth of
    // the server's CPU in the soak). Every use of the database is under the gate, so one parsed expression
    // serves every lookup by id in every collection, its parameter set before each.
    private readonly BsonExpression _byId = BsonExpression.Create("_id = @0", BsonValue.Null);

    // Only what finding a raw message takes: a message document also holds its links, images and
    // attachments, which a body search does not need (LiteDB then skips them instead of building them).
    private readonly BsonExpression _rawFields = BsonExpression.Create("{ RawData: $.RawData, RawId: $.RawId, Size: $.Size }");

    // What a listing shows (ListSummaries).
    private readonly BsonExpression _summaryFields = BsonExpression.Create(
        "{ _id: $._id, Key: $.Key, Subject: $.Subject, From: $.From, To: $.To, Cc: $.Cc, Bcc: $.Bcc, Summary: $.Summary, Attachments: $.Attachments }");

    /// <summary>The expression that finds <paramref name="id"/>. Under <see cref="_gate"/>, for one query at a time.</summary>
    private BsonExpression ById(string id)
    {
        _byId.Parameters["0"] = id;
        return _byId;
    }

    /// <summary>What <c>collection.FindById(id)</c> does, without parsing a query each time. Under <see cref="_gate"/>.</summary>
    private T? FindById<T>(ILiteCollection<T> collection, string id) => collection.Find(ById(id)).FirstOrDefault();

    private StoredMessage? MessageById(string id) => FindById(_messages, id);
    private ILiteCollection<BsonDocument> _raw = null!;
    private ILiteCollection<InboxRecord> _inboxes = null!;
    private ILiteCollection<BsonDocument> _attachments = null!;
    private long? _totalRawBytes;

    // The inbox records as committed, for the writer's counter updates: looking each one up in LiteDB took
    // about a tenth of a lone message's commit. Filled by commits; every other change to an inbox record
    // drops its entry first, and a commit that fails empties it (LiteDB may have confirmed the transaction
    // before the failure), so an entry is never other than the database's.
    private readonly Dictionary<string, InboxRecord> _inboxCache = new(StringComparer.Ordinal);
    private const int InboxCacheLimit = 10_000;

    // Every use of the database runs under this lock, reads included. Writes need it anyway (LiteDB
    // transactions are per thread, the inbox counters are read-modify-write); reads need it because
    // LiteDB 5's page cache can hand a page that a concurrent reader holds to another user (the soak hit
    // "pages in memory store must be non-shared", LiteDB issue 2817, and storage stayed down). Reads are
    // small and short (search runs on the in-memory index, lists on an index range), so one at a time costs little.
    private readonly Lock _gate = new();
    private LogFileStream _log = null!;
    private readonly SearchIndex _index;
    private long _lastUse;
    private bool _usedSinceOpen;

    public MessageRepository(IOptions<StorageOptions> options, IHostEnvironment environment, ILogger<MessageRepository> logger)
    {
        _logger = logger;
        _index = new SearchIndex(options.Value.SearchCacheMegabytes * 1024L * 1024L);
        FilePath = System.IO.Path.GetFullPath(options.Value.Path, environment.ContentRootPath);
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(FilePath)!);
            Open();
        }
        catch (Exception ex) when (ex is LiteException or IOException or UnauthorizedAccessException)
        {
            throw new StorageUnavailableException(
                $"Cannot open the database {FilePath}: {ex.Message} Set MailSink:Storage:Path to a writable file that no other MailSink uses.",
                ex);
        }

        Log.StorageOpened(logger, FilePath, _inboxes.FindAll().Sum(i => i.Messages));
    }

    private void Open()
    {
        var mapper = CreateDatabaseMapper();
        // Ordinal comparison: LiteDB's default collation (current culture, ignore case) found ids written in
        // another case and let one inbox's key range take in another whose name differs only in accents.
        _log = new LogFileStream(LogFilePath);
        try
        {
            var engine = new LiteEngine(new EngineSettings { Filename = FilePath, LogStream = _log, Collation = Collation.Binary });
            _db = new LiteDatabase(engine, mapper) { UtcDate = true };
        }
        catch
        {
            _log.Dispose();
            throw;
        }

        _messages = _db.GetCollection<StoredMessage>("messages");
        _messageDocuments = _db.GetCollection("messages");
        _raw = _db.GetCollection("raw");
        _inboxes = _db.GetCollection<InboxRecord>("inboxes");
        _attachments = _db.GetCollection("attachments");
        _messages.EnsureIndex(m => m.Key, unique: true);
        UpgradeFromRawIdIndex();
        LastReceivedTicks = Math.Max(LastReceivedTicks, _inboxes.FindAll().Select(i => i.LastReceivedTicks).DefaultIfEmpty(0).Max());
    }

    private static BsonMapper CreateMapper()
    {
        // Keep strings as they are: LiteDB's defaults trim them and store "" as null.
        var mapper = new BsonMapper { TrimWhitespace = false, EmptyStringToNull = false };
        mapper.Entity<StoredMessage>().Id(m => m.Id, autoId: false);
        mapper.Entity<InboxRecord>().Id(i => i.Id, autoId: false);
        return mapper;
    }

    /// <summary>
    /// The mapper for the database. A message document leaves out every field that holds its default: the
    /// lists that are empty (no Cc, no links, no attachments...), "" (the raw id of a message whose raw bytes
    /// are in its document, an address without a display name), false and 0, at every level. Each reads
    /// back as the default it was, and together they are about 170 of the 2 KB a 2 KB message's document
    /// takes. The inbox and the receive time are not stored either: the key holds both.
    /// </summary>
    private static BsonMapper CreateDatabaseMapper()
    {
        var parts = CreateMapper();
        var message = CreateMapper();
        WithoutDefaults<StoredEnvelope>(message, parts);
        WithoutDefaults<StoredAddress>(message, parts);
        WithoutDefaults<StoredLink>(message, parts);
        WithoutDefaults<StoredImage>(message, parts);
        WithoutDefaults<StoredAttachment>(message, parts);
        var mapper = CreateMapper();
        WithoutDefaults<StoredMessage>(mapper, message, read => read.RestoreFromKey());
        return mapper;
    }

    /// <summary>The document, less its fields that <paramref name="drop"/> picks.</summary>
    private static BsonDocument Without(BsonDocument document, Func<KeyValuePair<string, BsonValue>, bool> drop)
    {
        foreach (var key in document.Where(drop).Select(field => field.Key).ToList())
            document.Remove(key);
        return document;
    }

    /// <summary>Registers <typeparamref name="T"/> on <paramref name="mapper"/>: mapped by <paramref name="inner"/>, minus the fields equal to a new <typeparamref name="T"/>'s.</summary>
    private static void WithoutDefaults<T>(BsonMapper mapper, BsonMapper inner, Action<T>? afterRead = null)
        where T : new()
    {
        var defaults = inner.ToDocument(new T());
        mapper.RegisterType<T>(
            value => Without(inner.ToDocument(value), IsDefault),
            bson =>
            {
                var value = inner.ToObject<T>(bson.AsDocument);
                afterRead?.Invoke(value);
                return value;
            });

        bool IsDefault(KeyValuePair<string, BsonValue> field) =>
            (field.Value.IsArray && field.Value.AsArray.Count == 0)
            || (defaults.TryGetValue(field.Key, out var initial) && initial == field.Value);
    }

    /// <summary>How many times the database was closed and opened again after a fault.</summary>
    public int Reopens { get; private set; }

    /// <summary>
    /// After a fault inside LiteDB, closes the database and opens it again. LiteDB 5 leaves its engine
    /// unusable after some internal errors (every later call throws the same exception, until a restart),
    /// while the files on disk stay consistent: a commit either reached the log or did not. Opening again
    /// replays the log, as a restart would, and the in-memory search index and byte count start afresh.
    /// Under <see cref="_gate"/>.
    /// </summary>
    private void ReopenLocked(Exception fault)
    {
        Log.StorageReopening(_logger, fault);
        try
        {
            CloseAndOpenLocked();
            Reopens++;
            Log.StorageReopened(_logger, FilePath);
        }
        catch (Exception ex) when (ex is LiteException or IOException or UnauthorizedAccessException)
        {
            Log.StorageReopenFailed(_logger, FilePath, ex); // the next failing operation tries again
        }
    }

    private void CloseAndOpenLocked()
    {
        try
        {
            _db.Dispose(); // also folds the log into the data file
        }
        catch (Exception ex) when (IsEngineFault(ex))
        {
            // a broken engine may fail to close; the files are what matter
        }

        CloseLog();

        // Forget what was derived from the old engine first: an Open() that fails partway must not leave it.
        _index.ForgetAll();
        _totalRawBytes = null;
        _inboxCache.Clear();
        _usedSinceOpen = false;
        Open();
    }

    /// <summary>
    /// Closes and opens the database when it has not been used for <paramref name="idle"/> since its last
    /// use, to give back its page cache: LiteDB 5 keeps every page it has read or written until the database
    /// is closed (it has no cache limit), so after a burst of mail and API reads the process stayed at its
    /// peak size. Also empties the in-memory search index (reloaded by the next search). Returns whether it did.
    /// </summary>
    internal bool ReleaseIfIdle(TimeSpan idle)
    {
        lock (_gate)
        {
            if (!_usedSinceOpen || Environment.TickCount64 - _lastUse < (long)idle.TotalMilliseconds)
                return false;
            CloseAndOpenLocked();
            return true;
        }
    }

    /// <summary>
    /// Runs a use of the database under the gate, and opens the database again when LiteDB fails inside
    /// it (the caller still gets the exception: a 451 for a write, a 500 for a read).
    /// </summary>
    private T Guarded<T>(Func<T> use, bool isUse = true)
    {
        lock (_gate)
            return GuardedLocked(use, isUse);
    }

    /// <summary><see cref="Guarded{T}"/> when <see cref="_gate"/> is free; false, having done nothing, when another use holds it.</summary>
    private bool TryGuarded(Action use)
    {
        if (!_gate.TryEnter())
            return false;
        try
        {
            GuardedLocked(() =>
            {
                use();
                return true;
            }, isUse: true);
            return true;
        }
        finally
        {
            _gate.Exit();
        }
    }

    private T GuardedLocked<T>(Func<T> use, bool isUse)
    {
        if (isUse)
        {
            _lastUse = Environment.TickCount64;
            _usedSinceOpen = true;
        }

        try
        {
            var result = use();
            // What this use wrote reaches the OS before its caller hears of it. Should that fail, LiteDB
            // counts the pages as written: the reopen starts again from the files.
            _log.WritePending();
            return result;
        }
        catch (Exception ex) when (IsEngineFault(ex))
        {
            ReopenLocked(ex);
            throw;
        }
    }

    private void Guarded(Action use) => Guarded(() =>
    {
        use();
        return true;
    });

    /// <summary>Whether the database answers a query; a health probe, which does not count as use for <see cref="ReleaseIfIdle"/>.</summary>
    internal void Probe() => Guarded(() => FindById(_inboxes, "health-probe"), isUse: false);

    /// <summary>
    /// Failures after which the engine's state is not to be trusted. An I/O error counts: LiteDB lets one
    /// out of <c>Commit()</c> after the transaction was already confirmed when the checkpoint that follows
    /// it fails, so what is in memory (counters, byte count, search index) may no longer match the files.
    /// </summary>
    private static bool IsEngineFault(Exception ex) =>
        ex is LiteException or ObjectDisposedException or InvalidOperationException or IOException or UnauthorizedAccessException;

    public string FilePath { get; }

    /// <summary>LiteDB's log file next to the database: <c>name-log.ext</c>, the name LiteDB itself gives it.</summary>
    private string LogFilePath => System.IO.Path.Combine(
        System.IO.Path.GetDirectoryName(FilePath)!,
        System.IO.Path.GetFileNameWithoutExtension(FilePath) + "-log" + System.IO.Path.GetExtension(FilePath));

    /// <summary>
    /// Bytes of raw messages stored, as received: each raw message in the <c>raw</c> collection once however
    /// many inboxes it reached, and each small one kept in its documents once per document.
    /// </summary>
    /// <remarks>
    /// Only the size cap needs it, so it is summed on first use (reading every document once) and
    /// kept current after that; start-up and writes pay nothing for it otherwise.
    /// </remarks>
    public long TotalRawBytes => Guarded(() => _totalRawBytes ??=
        _raw.Find(Query.Not("size", BsonValue.Null)).Sum(d => (long)d["size"].AsInt32)
        + _messages.Find(Query.Not("RawData", BsonValue.Null)).Sum(m => m.Size));

    /// <summary>
    /// Databases written before raw messages could live in their documents had indexes on <c>RawId</c>
    /// (to find the copies sharing a raw message) and <c>ReceivedTicks</c> (for retention). Each cost a
    /// page write per commit; the copies are now listed in <see cref="StoredMessage.Copies"/> and
    /// retention walks the inbox+time key. This records the copies once, then drops both indexes.
    /// </summary>
    private void UpgradeFromRawIdIndex()
    {
        var indexes = _db.GetCollection("$indexes").Find(Query.EQ("collection", "messages")).Select(i => i["name"].AsString).ToHashSet();
        if (indexes.Contains("RawId"))
        {
            _db.BeginTrans();
            var shared = _messages.Query().OrderBy(m => m.RawId).ToEnumerable()
                .Where(m => m.RawData is null)
                .GroupBy(m => m.RawId)
                .Where(g => g.Count() > 1)
                .ToList();
            foreach (var copies in shared)
            {
                foreach (var message in copies)
                {
                    message.Copies = copies.Where(c => c.Id != message.Id).Select(c => c.Id).ToList();
                    _messages.Update(message);
                }
            }

            _db.Commit();
            _messages.DropIndex("RawId");
        }

        if (indexes.Contains("ReceivedTicks"))
            _messages.DropIndex("ReceivedTicks");
    }

    /// <summary>The newest committed receive time; the writer keeps times strictly increasing from it.</summary>
    internal long LastReceivedTicks { get; private set; }

    /// <summary>Inserts a batch in one transaction. Writer thread only.</summary>
    internal void Commit(IReadOnlyList<PendingWrite> batch, DateTimeOffset now)
    {
        Guarded(() => CommitLocked(batch, now));
        _index.Added(batch.SelectMany(w => w.Messages));
    }

    /// <summary>
    /// <see cref="Commit"/> if no other use of the database is under way; false, having done nothing, if one
    /// is (a caller that must not wait, such as a socket event thread, then queues the batch instead).
    /// </summary>
    internal bool TryCommit(IReadOnlyList<PendingWrite> batch, DateTimeOffset now)
    {
        if (!TryGuarded(() => CommitLocked(batch, now)))
            return false;
        _index.Added(batch.SelectMany(w => w.Messages));
        return true;
    }

    private void CommitLocked(IReadOnlyList<PendingWrite> batch, DateTimeOffset now)
    {
        var ticks = Math.Max(now.UtcTicks, LastReceivedTicks + 1);
        var counters = new Dictionary<string, (long Count, long Last)>();
        var updated = new List<InboxRecord>();

        try
        {
            InTransaction(() => InsertBatch(batch, ref ticks, counters, updated));
        }
        catch
        {
            _inboxCache.Clear();
            throw;
        }

        LastReceivedTicks = ticks - 1;
        if (_inboxCache.Count + updated.Count > InboxCacheLimit)
            _inboxCache.Clear();
        foreach (var record in updated)
            _inboxCache[record.Id] = record;
    }

    /// <summary>Inserts the batch's raw messages and messages and updates the inbox counters, inside the caller's transaction.</summary>
    private void InsertBatch(IReadOnlyList<PendingWrite> batch, ref long ticks, Dictionary<string, (long Count, long Last)> counters, List<InboxRecord> updated)
    {
        foreach (var write in batch)
        {
            var embedded = write.Raw.Embedded;
            if (!embedded)
            {
                InsertRaw(write.RawId, write.Raw);
                _totalRawBytes += write.Raw.Length;
            }

            foreach (var message in write.Messages)
            {
                if (embedded)
                {
                    message.RawData = write.Raw.Chunks[0].Data; // compressed exactly when shorter than the message
                    message.RawId = ""; // nothing in the raw collection
                    _totalRawBytes += write.Raw.Length;
                }
                else if (write.Messages.Count > 1)
                {
                    message.Copies = write.Messages.Where(m => m != message).Select(m => m.Id).ToList();
                }

                message.ReceivedTicks = ticks;
                message.Key = StoredMessage.MakeKey(message.Inbox, ticks);
                ticks++;
                _messages.Insert(message);
                foreach (var attachment in message.Attachments)
                    _attachments.Insert(new BsonDocument { ["_id"] = attachment.Id, ["message"] = message.Id });
                counters[message.Inbox] = counters.TryGetValue(message.Inbox, out var c)
                    ? (c.Count + 1, message.ReceivedTicks)
                    : (1, message.ReceivedTicks);
            }
        }

        foreach (var (inbox, (count, last)) in counters)
        {
            var current = _inboxCache.TryGetValue(inbox, out var cached) ? cached : FindById(_inboxes, inbox);
            var record = current is null
                ? new InboxRecord { Id = inbox, Name = inbox, CreatedTicks = last }
                : new InboxRecord { Id = inbox, Name = current.Name, CreatedTicks = current.CreatedTicks, Messages = current.Messages };
            record.Messages += count;
            record.LastReceivedTicks = last;
            if (current is null || !_inboxes.Update(record))
                _inboxes.Insert(record);
            updated.Add(record);
        }
    }

    /// <summary>Drops an inbox's cached record; call before any change to it other than a commit's.</summary>
    private void ForgetInboxRecord(string inbox) => _inboxCache.Remove(inbox);

    private void InsertRaw(string rawId, RawMessage raw)
    {
        for (var i = 0; i < raw.Chunks.Count; i++)
        {
            var chunk = raw.Chunks[i];
            var doc = new BsonDocument { ["_id"] = ChunkId(rawId, i), ["data"] = new BsonValue(chunk.Data) };
            if (chunk.Compressed)
                doc["z"] = RawMessage.Brotli;
            if (i == 0)
            {
                doc["n"] = raw.Chunks.Count;
                doc["size"] = raw.Length;
            }
            _raw.Insert(doc);
        }
    }

    private static string ChunkId(string rawId, int index) => index == 0 ? rawId : $"{rawId}:{index}";

    /// <summary>The message's raw bytes, byte for byte as received, or null when they are gone.</summary>
    public byte[]? ReadRaw(StoredMessage message) =>
        message.RawData is null ? Guarded(() => ReadRawLocked(message.RawId)) : RawMessage.Unpack(message);

    /// <summary>What of a message's raw bytes needs the database: its chunks in the <c>raw</c> collection, when its document does not hold them. Under the gate.</summary>
    private byte[]? ChunksLocked(StoredMessage message) => message.RawData is null ? ReadRawLocked(message.RawId) : null;

    /// <summary>
    /// A message's raw bytes from what <see cref="ChunksLocked"/> read: the bytes its document holds are
    /// unpacked here, after the gate, so that other uses of the database need not wait for that.
    /// </summary>
    private static byte[]? Unpacked(StoredMessage message, byte[]? chunks) =>
        message.RawData is null ? chunks : RawMessage.Unpack(message);

    private byte[]? ReadRawLocked(string rawId)
    {
        var first = FindById(_raw, rawId);
        if (first is null)
            return null;
        var chunks = first["n"].AsInt32;
        var raw = new byte[first["size"].AsInt32];
        var at = RawMessage.Unpack(first, raw, 0);
        for (var i = 1; i < chunks; i++)
            at += RawMessage.Unpack(FindById(_raw, ChunkId(rawId, i)) ?? throw new InvalidDataException($"Raw message {rawId} lacks its chunk {i}."), raw, at);
        if (at != raw.Length)
            throw new InvalidDataException($"Raw message {rawId} holds {at} bytes, not the {raw.Length} recorded.");
        return raw;
    }

    /// <summary>
    /// One message in full: the document, and its bodies and headers from the raw message (read under the
    /// gate, parsed after it, so that other uses of the database need not wait for the parse).
    /// </summary>
    public StoredMessage? ReadMessage(string id)
    {
        var (message, chunks) = Guarded(() =>
        {
            var found = MessageById(id);
            return (found, found is null ? null : ChunksLocked(found));
        });
        if (message is not null && Unpacked(message, chunks) is { } raw)
            SetContent(message, MessageParser.ReadContent(raw));
        return message;
    }

    /// <summary>
    /// Sets a listed or searched message's bodies and headers from its raw bytes (unchanged when they are
    /// gone); nothing to do when a body search already read them into this object.
    /// </summary>
    public void LoadContent(StoredMessage message)
    {
        if (message.ContentLoaded)
            return;
        if (ReadRaw(message) is { } raw)
            SetContent(message, MessageParser.ReadContent(raw));
    }

    private static void SetContent(StoredMessage message, MessageContent content)
    {
        (message.Text, message.Html, message.Headers) = (content.Text, content.Html, content.Headers);
        message.ContentLoaded = true;
    }

    /// <summary>
    /// One inbox's keys as an index range. (A "Key >= low AND Key < high" filter made LiteDB scan the
    /// index from its far end when ordering newest first, loading every later inbox's documents on the way.)
    /// Keys always hold a '/' after the inbox, so the inclusive upper bound <c>inbox + "0"</c> is never a key.
    /// </summary>
    private static BsonExpression InboxRange(string low, string high) => Query.Between("Key", low, high);

    /// <summary>One inbox's keys, or those received after <paramref name="receivedAfter"/>, as an index range.</summary>
    private static BsonExpression InboxRange(string inbox, DateTimeOffset? receivedAfter = null) => InboxRange(
        receivedAfter is { } after ? StoredMessage.MakeKey(inbox, after.UtcTicks + 1) : inbox + "/",
        inbox + "0"); // '0' sorts right after '/'

    public StoredMessage? FindMessage(string id) => Guarded(() => MessageById(id));

    /// <summary>One inbox's messages, newest first, through the inbox+time key index.</summary>
    public IReadOnlyList<StoredMessage> ListMessages(string inbox, int skip, int take, DateTimeOffset? receivedAfter = null) =>
        Guarded(() => ListMessagesLocked(inbox, skip, take, receivedAfter));

    /// <summary>
    /// <see cref="ListMessages"/> with only what a listing shows: id, inbox and time, subject, addresses,
    /// summary and attachments. LiteDB then skips a document's links, images, codes and envelope instead
    /// of building them (a message with a link on each line has hundreds).
    /// </summary>
    public IReadOnlyList<StoredMessage> ListSummaries(string inbox, int skip, int take, DateTimeOffset? receivedAfter = null) =>
        Guarded(() =>
        {
            return _messageDocuments.Query()
                .Where(InboxRange(inbox, receivedAfter))
                .OrderByDescending("Key")
                .Select(_summaryFields)
                .Skip(skip)
                .Limit(take)
                .ToEnumerable()
                // A projection names a field the document left out (it held its default) as null: leave it out again.
                .Select(projected => _db.Mapper.ToObject<StoredMessage>(Without(projected.AsDocument, field => field.Value.IsNull)))
                .ToList();
        });

    private List<StoredMessage> ListMessagesLocked(string inbox, int skip, int take, DateTimeOffset? receivedAfter)
    {
        return _messages.Query()
            .Where(InboxRange(inbox, receivedAfter))
            .OrderByDescending(m => m.Key)
            .Skip(skip)
            .Limit(take)
            .ToList();
    }

    public void Dispose()
    {
        try
        {
            _db.Dispose();
        }
        finally
        {
            CloseLog();
        }
    }

    /// <summary>Closes the log file, and deletes it when a clean close left it empty (as LiteDB does with its own).</summary>
    private void CloseLog()
    {
        try
        {
            _log.Dispose();
            if (new FileInfo(LogFilePath) is { Exists: true, Length: 0 })
                File.Delete(LogFilePath);
        }
        catch (IOException ex)
        {
            Log.LogCloseFailed(_logger, LogFilePath, ex);
        }
    }
}
