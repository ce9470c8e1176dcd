namespace MailSink.Storage.LiteDb;

/// <summary>
/// Room on the disk that holds the LiteDB file. New mail is refused while free space is under
/// <see cref="StorageOptions.MinFreeBytes"/>; and a reserve file (<c>&lt;file&gt;.reserve</c>, <see cref="ReserveBytes"/>
/// of real blocks) is kept beside the database and given up when a write finds the disk full, so that the
/// database can be opened again (which writes) and mail can be deleted (deletes write too) even when
/// something else filled the disk to its last byte. It is made again once there is room for it.
/// </summary>
internal sealed class DiskSpace(string databasePath, long minFreeBytes)
{
    public const long ReserveBytes = 16L * 1024 * 1024;
    private const long CheckEvery = 1000; // milliseconds
    private const long NeverChecked = long.MinValue / 2; // far in the past, without overflowing a subtraction

    private readonly string _folder = Path.GetDirectoryName(databasePath)!;
    private long _checkedAt = NeverChecked;
    private long _free;
    private volatile bool _released;

    public string ReservePath { get; } = databasePath + ".reserve";

    /// <summary>Free bytes on the database's disk, read again at most once a second.</summary>
    public long FreeBytes
    {
        get
        {
            var now = Environment.TickCount64;
            if (now - Volatile.Read(ref _checkedAt) >= CheckEvery)
            {
                Volatile.Write(ref _free, new DriveInfo(_folder).AvailableFreeSpace);
                Volatile.Write(ref _checkedAt, now);
            }

            return Volatile.Read(ref _free);
        }
    }

    /// <summary>Whether free space is under the floor (then new mail is refused).</summary>
    public bool Low => minFreeBytes > 0 && FreeBytes < minFreeBytes;

    /// <summary>Why a message of <paramref name="declaredSize"/> bytes cannot come now, or null when it can.</summary>
    public string? RefuseMail(long declaredSize)
    {
        if (minFreeBytes == 0)
            return null;
        var free = FreeBytes;
        if (free - declaredSize >= minFreeBytes)
        {
            if (_released)
                EnsureReserve(); // room again: make the reserve again before the disk fills once more
            return null;
        }

        return $"Insufficient system storage: {free / (1024 * 1024)} MB free where mail is stored, under the " +
               $"{minFreeBytes / (1024 * 1024)} MB of MailSink:Storage:MinFreeBytes; try again later";
    }

    /// <summary>Makes the reserve file when it is missing and the disk has room for it beyond the floor. Best effort.</summary>
    public void EnsureReserve()
    {
        if (File.Exists(ReservePath) || FreeBytes < minFreeBytes + (2 * ReserveBytes))
            return;
        try
        {
            // Real blocks, not a sparse file: they must be there to give back. PreallocationSize asks the file
            // system for them (fallocate) without writing; where it cannot, zeros are written, in pieces under
            // the large-object size: one 1 MiB array made here at start-up was enough for the GC to return
            // and fault in again about half a megabyte per 100 KB message for the rest of the process's life.
            using var file = new FileStream(ReservePath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                PreallocationSize = ReserveBytes,
            });
            if (file.Length < ReserveBytes)
            {
                var zeros = new byte[64 * 1024];
                for (long written = 0; written < ReserveBytes; written += zeros.Length)
                    file.Write(zeros);
            }

            file.Flush(flushToDisk: true);
            _released = false;
        }
        catch (IOException)
        {
            TryDelete(); // half a reserve is no reserve
        }
    }

    /// <summary>Gives the reserve's blocks back to the disk; whether there was one.</summary>
    public bool ReleaseReserve()
    {
        if (!File.Exists(ReservePath))
            return false;
        TryDelete();
        _released = true;
        Volatile.Write(ref _checkedAt, NeverChecked); // read the free space again next time
        return true;
    }

    private void TryDelete()
    {
        try
        {
            File.Delete(ReservePath);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Whether <paramref name="fault"/> (or what it wraps) says that the disk is full.</summary>
    public static bool IsDiskFull(Exception? fault)
    {
        for (; fault is not null; fault = fault.InnerException)
        {
            // ENOSPC (28) on Linux, ERROR_DISK_FULL and ERROR_HANDLE_DISK_FULL on Windows.
            if (fault is IOException { HResult: 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027) })
                return true;
            if (fault is IOException && fault.Message.Contains("No space left on device", StringComparison.Ordinal))
                return true;
        }

        return false;
    }
}
