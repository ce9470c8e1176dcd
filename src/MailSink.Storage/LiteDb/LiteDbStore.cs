using LiteDB;
using LiteDB.Engine;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailSink.Storage.LiteDb;

/// <summary>
/// The LiteDB engine: one data file, one process (<see cref="DataFileLock"/>). Collections: <c>messages</c>
/// (one document per inbox copy, keyed by inbox and time; see <see cref="MessageDocument"/>), <c>contents</c>
/// (what copies of one message share), <c>raw</c> (raw messages too large for their document, Brotli-compressed,
/// in chunks), <c>attachments</c> (attachment id to message), <c>inboxes</c> (with message counters), <c>devices</c> and <c>analyses</c> (kept with their message).
/// Writes come from <see cref="LiteDbWriter"/> in batches; reads from any thread.
/// <para>
/// Every use of the database runs under one gate, reads included: writes need it anyway (LiteDB transactions
/// are per thread, the inbox counters are read-modify-write), and reads need it because LiteDB 5's page cache
/// can hand a page that a concurrent reader holds to another user (the soak hit "pages in memory store must
/// be non-shared", LiteDB issue 2817, and storage stayed down). The asynchronous calls of the seam take a turn
/// first (as many at once as there are cores), so that one waiting behind a commit holds no thread.
/// </para>
/// </summary>
internal sealed partial class LiteDbStore : IStorageSpace, IDisposable
{
    private readonly ILogger<LiteDbStore> _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _turns = new(Environment.ProcessorCount, Environment.ProcessorCount);
    private readonly SearchIndex _index;
    private readonly DataFileLock _fileLock;
    private readonly DiskSpace _space;
    private LiteDatabase _db = null!;
    private ILiteCollection<MessageDocument> _messages = null!;
    private ILiteCollection<BsonDocument> _messageDocuments = null!;
    private ILiteCollection<MessageDocument> _contents = null!;
    private ILiteCollection<BsonDocument> _contentDocuments = null!;
    private ILiteCollection<BsonDocument> _raw = null!;
    private ILiteCollection<InboxRecord> _inboxes = null!;
    private ILiteCollection<BsonDocument> _attachments = null!;
    private ILiteCollection<DeviceRecord> _devices = null!;
    private ILiteCollection<BsonDocument> _analyses = null!;
    private readonly BsonExpression _byMessage = BsonExpression.Create("m = @0", BsonValue.Null);
    private DataFileStream _data = null!;
    private LogFileStream _log = null!;
    private bool _open;
    private long _lastUse;
    private bool _usedSinceOpen;

    // LiteDB's FindById parses "_id = @0" into an expression on every call, reflection included (a tenth of
    // the server's CPU in the soak). Every use of the database is under the gate, so one parsed expression
    // serves every lookup by id in every collection, its parameter set before each.
    private readonly BsonExpression _byId = BsonExpression.Create("_id = @0", BsonValue.Null);

    public LiteDbStore(IOptions<StorageOptions> options, IHostEnvironment environment, TimeProvider time, ILogger<LiteDbStore> logger, MailSinkMetrics? metrics = null)
    {
        _logger = logger;
        _time = time;
        _index = new SearchIndex(options.Value.SearchCacheMegabytes * 1024L * 1024L);
        FilePath = System.IO.Path.GetFullPath(options.Value.Path, environment.ContentRootPath);
        _fileLock = new DataFileLock(FilePath);
        _space = new DiskSpace(FilePath, options.Value.MinFreeBytes);
        metrics?.Observe("mailsink.storage.size", "By", "The LiteDB data file and its log, as they take on disk", FileBytes);
    }

    /// <summary>The data file and LiteDB's log beside it (<c>name-log.ext</c>), as long as they are now.</summary>
    private long FileBytes()
    {
        var log = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(FilePath)!,
            System.IO.Path.GetFileNameWithoutExtension(FilePath) + "-log" + System.IO.Path.GetExtension(FilePath));
        return (File.Exists(FilePath) ? new FileInfo(FilePath).Length : 0) + (File.Exists(log) ? new FileInfo(log).Length : 0);
    }

    /// <summary>Free space where the database is, and the reserve kept for a full disk.</summary>
    internal DiskSpace Space => _space;

    public string? RefuseMail(long declaredSize) => _space.RefuseMail(declaredSize);

    public string FilePath { get; }

    /// <summary>How many times the database was closed and opened again after a fault.</summary>
    public int Reopens { get; private set; }

    /// <summary>The expression that finds <paramref name="id"/>. Under <see cref="_gate"/>, for one query at a time.</summary>
    private BsonExpression ById(string id)
    {
        _byId.Parameters["0"] = id;
        return _byId;
    }

    /// <summary>What <c>collection.FindById(id)</c> does, without parsing a query each time. Under <see cref="_gate"/>.</summary>
    private T? FindById<T>(ILiteCollection<T> collection, string id) => collection.Find(ById(id)).FirstOrDefault();

    /// <summary>
    /// Runs a use of the database under the gate, and opens the database again when LiteDB fails inside
    /// it (the caller still gets the exception: a 451 for a write, a 503 for a read).
    /// </summary>
    private T Guarded<T>(Func<T> use, bool isUse = true)
    {
        lock (_gate)
            return GuardedLocked(use, isUse);
    }

    private void Guarded(Action use) => Guarded(() =>
    {
        use();
        return true;
    });

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
        if (!_open)
            throw new StorageUnavailableException("The database is not open.");
        if (isUse)
        {
            _lastUse = Environment.TickCount64;
            _usedSinceOpen = true;
        }

        try
        {
            var result = use();
            // What this use wrote reaches the OS before its caller hears of it. Should that fail, LiteDB
            // counts the pages as written: the reopen starts again from the files. A full disk first gets
            // the reserve's blocks, and the pages a second chance (a delete is how room is made).
            try
            {
                _log.WritePending();
            }
            catch (IOException full) when (DiskSpace.IsDiskFull(full) && _space.ReleaseReserve())
            {
                Log.ReserveReleased(_logger, _space.ReservePath);
                _log.WritePending();
            }

            return result;
        }
        catch (Exception ex) when (IsEngineFault(ex))
        {
            ReopenLocked(ex);
            throw new StorageUnavailableException($"The database failed: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// A use of the database for an API call: an asynchronous turn first, then <see cref="Guarded{T}"/>.
    /// Blocked on the gate, 500 calls/s took the thread pool's threads and every request, static files
    /// included, waited for one; a call waiting for a turn holds none.
    /// </summary>
    private async Task<T> UseAsync<T>(Func<T> use, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waitingForTurn);
        try
        {
            await _turns.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waitingForTurn);
        }

        try
        {
            return Guarded(use);
        }
        finally
        {
            _turns.Release();
        }
    }

    private int _waitingForTurn;

    /// <summary>Calls waiting for a turn now.</summary>
    internal int WaitingTurns => Volatile.Read(ref _waitingForTurn);

    /// <summary>Whether the database answers a query; a health probe, which does not count as use for <see cref="ReleaseIfIdle"/>.</summary>
    internal void Probe() => Guarded(() => FindById(_inboxes, "health-probe"), isUse: false);

    /// <summary>
    /// Failures after which the engine's state is not to be trusted. An I/O error counts: LiteDB lets one
    /// out of <c>Commit()</c> after the transaction was already confirmed when the checkpoint that follows
    /// it fails, so what is in memory (counters, byte count, search index) may no longer match the files.
    /// </summary>
    private static bool IsEngineFault(Exception ex) =>
        ex is LiteException or ObjectDisposedException or InvalidOperationException or IOException or UnauthorizedAccessException;

}
