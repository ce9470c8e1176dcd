using System.Buffers;

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

    private readonly Dictionary<long, byte[]> _pending = [];
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
                page.AsSpan(0, PageSize).CopyTo(buffer);
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
                page = ArrayPool<byte>.Shared.Rent(PageSize);
                _pending[Position] = page;
            }

            buffer.CopyTo(page);
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
            run.Add(_pending[positions[i]].AsMemory(0, PageSize));
            if (i + 1 == positions.Length || positions[i + 1] != positions[i] + PageSize)
            {
                RandomAccess.Write(File, run, positions[start]);
                run.Clear();
                start = i + 1;
            }
        }

        foreach (var page in _pending.Values)
            ArrayPool<byte>.Shared.Return(page);
        _pending.Clear();
        _pendingEnd = 0;
    }

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
