namespace MailSink.Server.Smtp;

/// <summary>
/// Where message bodies wait while DATA is received: in memory, within one budget shared by every session,
/// and past it (or past <see cref="MemoryPerBody"/> for one body) in a temporary file. Memory for bodies in
/// flight is then bounded whatever clients do: forty clients each sending 24 MB without the final dot
/// took 1 GB of RSS when every body was kept in memory until its end, and held it after they left.
/// </summary>
internal sealed class BodySpool(long memoryBudget, string directory)
{
    /// <summary>A body larger than this goes to a file even when the budget has room (such a message takes the large path anyway).</summary>
    public const int MemoryPerBody = 1024 * 1024;

    private long _inMemory;
    private int _spilled;

    /// <summary>Bytes of bodies in flight held in memory now.</summary>
    public long InMemoryBytes => Interlocked.Read(ref _inMemory);

    /// <summary>Bodies in flight held in files now.</summary>
    public int SpilledBodies => Volatile.Read(ref _spilled);

    /// <summary>Takes <paramref name="bytes"/> from the memory budget; false, taking nothing, when they do not fit.</summary>
    public bool TryTake(int bytes)
    {
        while (true)
        {
            var now = Interlocked.Read(ref _inMemory);
            if (now + bytes > memoryBudget)
                return false;
            if (Interlocked.CompareExchange(ref _inMemory, now + bytes, now) == now)
                return true;
        }
    }

    public void Give(long bytes) => Interlocked.Add(ref _inMemory, -bytes);

    /// <summary>
    /// A new temporary file for one body, already unlinked where the system allows it (so that nothing is
    /// left behind, even after a kill -9), deleted on close elsewhere.
    /// </summary>
    public FileStream CreateFile()
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, $"mailsink-body-{Guid.NewGuid():N}.tmp");
        var options = OperatingSystem.IsWindows() ? FileOptions.DeleteOnClose : FileOptions.None;
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 64 * 1024, options);
        if (!OperatingSystem.IsWindows())
            File.Delete(path);
        Interlocked.Increment(ref _spilled);
        return file;
    }

    public void Released() => Interlocked.Decrement(ref _spilled);
}
