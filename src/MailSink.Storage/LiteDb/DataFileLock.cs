namespace MailSink.Storage.LiteDb;

/// <summary>
/// One MailSink process per LiteDB file. Nothing in LiteDB stops a second process from opening a file
/// another one uses: both answered 250 and one's mail was lost once both had stopped. MailSink holds
/// <c>&lt;file&gt;.lock</c> exclusively (an OS lock, released when the process ends, however it ends) from
/// before it opens the file until it closes it, and a second process stops at start with one line.
/// </summary>
internal sealed class DataFileLock(string dataFile) : IDisposable
{
    /// <summary>What .NET reports when another process holds the file: ERROR_SHARING_VIOLATION on Windows, EWOULDBLOCK from flock elsewhere (11 on Linux, 35 on macOS).</summary>
    private static bool HeldElsewhere(IOException ex) => ex.HResult is unchecked((int)0x80070020) or 11 or 35;

    private FileStream? _held;

    public string LockPath { get; } = dataFile + ".lock";

    /// <summary>Takes the lock, or throws <see cref="StorageUnavailableException"/> saying who has it and what to do.</summary>
    public void Take()
    {
        if (_held is not null)
            return;
        Directory.CreateDirectory(Path.GetDirectoryName(LockPath)!);
        try
        {
            _held = new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (HeldElsewhere(ex))
        {
            throw new StorageUnavailableException(
                $"The database {dataFile} is in use by another MailSink process (it holds {LockPath}): one process per LiteDB file. " +
                "Give this one its own file with MailSink:Storage:Path, or run every process on one PostgreSQL database with " +
                "MailSink:Storage:Engine=PostgreSql.",
                ex);
        }
    }

    public void Dispose()
    {
        _held?.Dispose();
        _held = null;
    }
}
