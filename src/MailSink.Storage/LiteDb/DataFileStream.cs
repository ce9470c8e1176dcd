namespace MailSink.Storage.LiteDb;

/// <summary>
/// LiteDB's data file, given to the engine as its data stream so that a checkpoint writes each page once,
/// in a few large writes.
/// <para>
/// LiteDB writes the data file only at a checkpoint, where it copies every page version in the log to its
/// place, oldest first, one 8 KiB write each, then forces the file to the disk. The same few pages (index
/// nodes, the header, the inbox counters) are in nearly every commit: a checkpoint after 2 KB mail wrote
/// about 1,000 pages to 77 places in 10 runs. Here whole-page writes are kept in memory, the last version of
/// each page winning, and written out sorted, one system call per run of adjacent pages, when LiteDB asks
/// for the file to be forced to the disk (the end of the checkpoint, before the log is emptied), before
/// any other kind of access, or past <see cref="PendingLimit"/>. A page kept here is read from here.
/// What reaches the disk, and when it is forced there, is what LiteDB's own writes gave.
/// </para>
/// </summary>
internal sealed class DataFileStream(string path) : HeldWritesFileStream(path)
{
    private const int PageSize = 8192;

    /// <summary>At most this many pages wait in memory (32 MiB): a checkpoint of large messages writes them out as it goes.</summary>
    internal const int PendingLimit = 4096;

    /// <summary>Pages are kept in slabs of this many (256 KiB), which stay for the next checkpoint up to <see cref="SlabsKept"/>.</summary>
    private const int SlabPages = 32;

    /// <summary>Slabs kept between checkpoints (8 MiB: the 1,000 pages of LiteDB's usual checkpoint).</summary>
    private const int SlabsKept = 32;

    /// <summary>Where each waiting page is kept: its index among the slabs' pages, by its position in the file.</summary>
    private readonly Dictionary<long, int> _pending = [];
    private readonly List<byte[]> _slabs = [];
    private long _pendingEnd;

    public override long Length => Math.Max(RandomAccess.GetLength(File), _pendingEnd);

    /// <summary>How many pages are waiting to be written.</summary>
    public int PendingPages => _pending.Count;

    public override int Read(Span<byte> buffer)
    {
        if (_pending.Count > 0)
        {
            if (buffer.Length == PageSize && _pending.TryGetValue(Position, out var page))
            {
                Kept(page).Span.CopyTo(buffer);
                Position += PageSize;
                return PageSize;
            }

            // A kept page in the way, or a read past the file's end where kept pages make it longer
            // (a plain file reads zeros there): write them out first.
            if (Overlaps(Position, buffer.Length) || Position + buffer.Length > RandomAccess.GetLength(File))
                WritePending();
        }

        var read = RandomAccess.Read(File, buffer, Position);
        Position += read;
        return read;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length == PageSize && Position % PageSize == 0)
        {
            if (!_pending.TryGetValue(Position, out var page))
            {
                if (_pending.Count >= PendingLimit)
                    WritePending();
                page = _pending.Count;
                if (page == _slabs.Count * SlabPages)
                    _slabs.Add(new byte[SlabPages * PageSize]);
                _pending[Position] = page;
            }

            buffer.CopyTo(Kept(page).Span);
            Position += PageSize;
            _pendingEnd = Math.Max(_pendingEnd, Position);
            return;
        }

        WritePending();
        RandomAccess.Write(File, buffer, Position);
        Position += buffer.Length;
    }

    /// <summary>Writes the waiting pages to the file (to the OS), in position order, adjacent pages together.</summary>
    public override void WritePending()
    {
        if (_pending.Count == 0)
            return;
        var positions = _pending.Keys.ToArray();
        Array.Sort(positions);
        var run = new List<ReadOnlyMemory<byte>>();
        var start = 0;
        for (var i = 0; i < positions.Length; i++)
        {
            run.Add(Kept(_pending[positions[i]]));
            if (i + 1 == positions.Length || positions[i + 1] != positions[i] + PageSize)
            {
                RandomAccess.Write(File, run, positions[start]);
                run.Clear();
                start = i + 1;
            }
        }

        _pending.Clear();
        if (_slabs.Count > SlabsKept)
            _slabs.RemoveRange(SlabsKept, _slabs.Count - SlabsKept);
        _pendingEnd = 0;
    }

    private Memory<byte> Kept(int page) => _slabs[page / SlabPages].AsMemory(page % SlabPages * PageSize, PageSize);

    private bool Overlaps(long position, int length)
    {
        var first = position / PageSize * PageSize;
        for (var page = first; page < position + length; page += PageSize)
        {
            if (_pending.ContainsKey(page))
                return true;
        }

        return false;
    }
}
