namespace MailSink.Storage.LiteDb;

/// <summary>
/// LiteDB's log file (<c>&lt;database&gt;-log.db</c>), given to the engine as its log stream so that the pages
/// of one commit reach the OS in one write instead of one write per 8 KiB page, and a checkpoint reads the
/// log back in large reads instead of page by page.
/// <para>
/// Writes that continue where the previous one ended are gathered in memory; anything else (a read, a
/// write elsewhere, a length change, a flush) first writes them out. <see cref="LiteDbStore"/> calls
/// <see cref="WritePending"/> at the end of every use of the database, before any caller learns that a
/// write was done: a commit's pages are in the OS (which survives <c>kill -9</c>) before its <c>250</c>,
/// exactly as when LiteDB wrote them itself. <see cref="Flush"/> also forces them to the disk, as LiteDB
/// asks for at a checkpoint.
/// </para>
/// </summary>
internal sealed class LogFileStream(string path) : HeldWritesFileStream(path)
{
    private const int GatherLimit = 4 * 1024 * 1024;
    private const int ReadAhead = 128 * 1024;

    private byte[] _pending = new byte[256 * 1024];
    private int _pendingLength;
    private long _pendingStart;
    private readonly byte[] _readBuffer = new byte[ReadAhead];
    private long _readStart;
    private int _readLength;
    private long _lastReadEnd = -1;

    public override long Length => _pendingLength == 0
        ? RandomAccess.GetLength(File)
        : Math.Max(RandomAccess.GetLength(File), _pendingStart + _pendingLength);

    /// <summary>
    /// For fault tests: asked before each read from the file (after gathered writes are written out); an
    /// exception it returns is thrown where the read would have failed, as a disk's I/O error is.
    /// </summary>
    internal Func<Exception?>? ReadFault { get; set; }

    /// <summary>Whether gathered writes are waiting to be written.</summary>
    public bool HasPending => _pendingLength > 0;

    /// <summary>Writes the gathered pages to the file (to the OS, not forced to the disk).</summary>
    public override void WritePending()
    {
        if (_pendingLength == 0)
            return;
        RandomAccess.Write(File, _pending.AsSpan(0, _pendingLength), _pendingStart);
        _pendingLength = 0;
    }

    public override int Read(Span<byte> buffer)
    {
        WritePending();
        int read;
        if (Position >= _readStart && Position + buffer.Length <= _readStart + _readLength)
        {
            _readBuffer.AsSpan((int)(Position - _readStart), buffer.Length).CopyTo(buffer);
            read = buffer.Length;
        }
        else if (Position == _lastReadEnd && buffer.Length < ReadAhead)
        {
            // Reading on from where the last read ended (a checkpoint going through the log): read ahead.
            _readLength = 0; // nothing cached should a failed read leave _readStart pointing elsewhere
            _readStart = Position;
            _readLength = ReadFile(_readBuffer, Position);
            read = Math.Min(buffer.Length, _readLength);
            _readBuffer.AsSpan(0, read).CopyTo(buffer);
        }
        else
        {
            read = ReadFile(buffer, Position);
        }

        Position += read;
        _lastReadEnd = Position;
        return read;
    }

    private int ReadFile(Span<byte> buffer, long offset)
    {
        if (ReadFault?.Invoke() is { } fault)
            throw fault;
        return RandomAccess.Read(File, buffer, offset);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _readLength = 0;
        if (_pendingLength > 0 && (Position != _pendingStart + _pendingLength || _pendingLength + buffer.Length > GatherLimit))
            WritePending();
        if (_pendingLength == 0)
            _pendingStart = Position;
        if (_pendingLength + buffer.Length > _pending.Length)
            Array.Resize(ref _pending, Math.Max(_pending.Length * 2, _pendingLength + buffer.Length));
        buffer.CopyTo(_pending.AsSpan(_pendingLength));
        _pendingLength += buffer.Length;
        Position += buffer.Length;
    }

    protected override void ForgetReads() => _readLength = 0;
}
