using LiteDB;
using LiteDB.Engine;
using Microsoft.Extensions.Logging;

namespace MailSink.Storage.LiteDb;

/// <summary>
/// The data file's life: taken (its lock), opened, opened again after a fault or when idle, closed.
/// </summary>
internal sealed partial class LiteDbStore
{
    /// <summary>
    /// Takes the data file for this process (its lock): a file another process holds stops the start with
    /// one line, before any port is bound or the file itself is touched.
    /// </summary>
    public void TakeFile()
    {
        lock (_gate)
        {
            try
            {
                _fileLock.Take();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new StorageUnavailableException(
                    $"Cannot open the database {FilePath}: {ex.Message} Set MailSink:Storage:Path to a writable file that no other MailSink uses.",
                    ex);
            }
        }
    }

    /// <summary>Opens the data file (once), taking it first if that was not done; a file that cannot be opened stops the start with one line.</summary>
    public void Open()
    {
        TakeFile();
        lock (_gate)
        {
            if (_open)
                return;
            try
            {
                OpenLocked();
            }
            catch (Exception ex) when (ex is LiteException or IOException or UnauthorizedAccessException)
            {
                throw new StorageUnavailableException(
                    $"Cannot open the database {FilePath}: {ex.Message} Set MailSink:Storage:Path to a writable file that no other MailSink uses.",
                    ex);
            }

            _open = true;
        }

        _space.EnsureReserve();
    }

    /// <summary>Says where the database is and what it holds (once the whole start has succeeded).</summary>
    public void LogOpened() => Log.StorageOpened(_logger, FilePath, MessageCount(isUse: false));

    private void OpenLocked()
    {
        // Ordinal comparison: LiteDB's default collation (current culture, ignore case) found ids written in
        // another case and let one inbox's key range take in another whose name differs only in accents.
        _data = new DataFileStream(FilePath);
        _log = new LogFileStream(LogFilePath);
        try
        {
            var engine = new LiteEngine(new EngineSettings { Filename = FilePath, DataStream = _data, LogStream = _log, Collation = Collation.Binary });
            _db = new LiteDatabase(engine, DocumentMapper.Create()) { UtcDate = true };
        }
        catch
        {
            _log.Dispose();
            _data.Dispose();
            throw;
        }

        _messages = _db.GetCollection<MessageDocument>("messages");
        _messageDocuments = _db.GetCollection("messages");
        _contents = _db.GetCollection<MessageDocument>("contents");
        _contentDocuments = _db.GetCollection("contents");
        _raw = _db.GetCollection("raw");
        _inboxes = _db.GetCollection<InboxRecord>("inboxes");
        _attachments = _db.GetCollection("attachments");
        _devices = _db.GetCollection<DeviceRecord>("devices");
        _analyses = _db.GetCollection("analyses");
        _analyses.EnsureIndex("m");
        _messages.EnsureIndex(m => m.Key, unique: true);
        UpgradeFromRawIdIndex();
        LastReceivedTicks = Math.Max(LastReceivedTicks, _inboxes.FindAll().Select(i => i.LastReceivedTicks).DefaultIfEmpty(0).Max());
    }

    /// <summary>
    /// After a fault inside LiteDB, closes the database and opens it again. LiteDB 5 leaves its engine
    /// unusable after some internal errors (every later call throws the same exception, until a restart),
    /// while the files on disk stay consistent: a commit either reached the log or did not. Opening again
    /// replays the log, as a restart would, and what is kept in memory starts afresh. Under <see cref="_gate"/>.
    /// </summary>
    private bool ReopenLocked(Exception fault)
    {
        Log.StorageReopening(_logger, fault);
        // A full disk: opening writes (the log is folded into the data file), and so do deletes, the way
        // to make room. The reserve gives the disk back what they need.
        if (DiskSpace.IsDiskFull(fault) && _space.ReleaseReserve())
            Log.ReserveReleased(_logger, _space.ReservePath);
        try
        {
            CloseAndOpenLocked();
            Reopens++;
            Log.StorageReopened(_logger, FilePath);
            return true;
        }
        catch (Exception ex) when (ex is LiteException or IOException or UnauthorizedAccessException)
        {
            if (DiskSpace.IsDiskFull(ex) && _space.ReleaseReserve())
                return ReopenLocked(ex);
            Log.StorageReopenFailed(_logger, FilePath, ex); // the next failing operation tries again
            return false;
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

        CloseFiles();

        // Forget what was derived from the old engine first: an open that fails partway must not leave it.
        _index.ForgetAll();
        _storedBytes = null;
        _inboxCache.Clear();
        _usedSinceOpen = false;
        OpenLocked();
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
            if (!_open || !_usedSinceOpen || Environment.TickCount64 - _lastUse < (long)idle.TotalMilliseconds)
                return false;
            CloseAndOpenLocked();
            return true;
        }
    }

    /// <summary>LiteDB's log file next to the database: <c>name-log.ext</c>, the name LiteDB itself gives it.</summary>
    private string LogFilePath => System.IO.Path.Combine(
        System.IO.Path.GetDirectoryName(FilePath)!,
        System.IO.Path.GetFileNameWithoutExtension(FilePath) + "-log" + System.IO.Path.GetExtension(FilePath));

    public void Dispose()
    {
        lock (_gate)
        {
            if (_open)
            {
                try
                {
                    _db.Dispose();
                }
                finally
                {
                    CloseFiles();
                    _open = false;
                }
            }

            _fileLock.Dispose();
        }
    }

    /// <summary>Closes the data and log files, and deletes the log when a clean close left it empty (as LiteDB does with its own).</summary>
    private void CloseFiles()
    {
        try
        {
            _data.Dispose(); // writes out the pages of a checkpoint that failed before forcing them to the disk
        }
        catch (IOException ex)
        {
            Log.FileCloseFailed(_logger, FilePath, ex); // the log still holds those pages
        }

        try
        {
            _log.Dispose();
            if (new FileInfo(LogFilePath) is { Exists: true, Length: 0 })
                File.Delete(LogFilePath);
        }
        catch (IOException ex)
        {
            Log.FileCloseFailed(_logger, LogFilePath, ex);
        }
    }
}
