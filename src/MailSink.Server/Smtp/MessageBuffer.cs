using System.Buffers;

namespace MailSink.Server.Smtp;

/// <summary>
/// Collects a message body while it streams in: in pooled chunks taken from the <see cref="BodySpool"/>'s
/// memory budget, and once the budget or the per-body share is used up, in a temporary file. Hands out
/// one exact-size array at the end (what the store keeps). Everything is given back on dispose.
/// </summary>
internal sealed class MessageBuffer(BodySpool? spool) : IDisposable
{
    private const int ChunkSize = 64 * 1024;
    private readonly List<byte[]> _chunks = [];
    private int _used = ChunkSize; // no chunk yet
    private FileStream? _file;

    public long Length { get; private set; }

    /// <summary>Whether the body is in a file rather than in memory.</summary>
    public bool Spilled => _file is not null;

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_file is not null)
        {
            _file.Write(data);
            Length += data.Length;
            return;
        }

        while (!data.IsEmpty)
        {
            if (_used == ChunkSize)
            {
                if (spool is not null && (Length + ChunkSize > BodySpool.MemoryPerBody || !spool.TryTake(ChunkSize)))
                {
                    Spill(spool);
                    Append(data);
                    return;
                }

                _chunks.Add(ArrayPool<byte>.Shared.Rent(ChunkSize));
                _used = 0;
            }

            var n = Math.Min(ChunkSize - _used, data.Length);
            data[..n].CopyTo(_chunks[^1].AsSpan(_used));
            _used += n;
            Length += n;
            data = data[n..];
        }
    }

    /// <summary>Moves what is in memory into a new file, and gives the memory back.</summary>
    private void Spill(BodySpool to)
    {
        var file = to.CreateFile();
        ForEachChunk(file.Write);
        _file = file;
        ReturnChunks();
    }

    public byte[] ToArray()
    {
        var result = GC.AllocateUninitializedArray<byte>(checked((int)Length));
        if (_file is not null)
        {
            _file.Flush();
            var offset = 0;
            while (offset < result.Length)
            {
                var n = RandomAccess.Read(_file.SafeFileHandle, result.AsSpan(offset), offset);
                if (n == 0)
                    throw new IOException($"The body's temporary file ended after {offset} of {result.Length} bytes.");
                offset += n;
            }

            return result;
        }

        var at = 0;
        ForEachChunk(chunk =>
        {
            chunk.CopyTo(result.AsSpan(at));
            at += chunk.Length;
        });
        return result;
    }

    private void ForEachChunk(SpanAction action)
    {
        for (var i = 0; i < _chunks.Count; i++)
            action(_chunks[i].AsSpan(0, i == _chunks.Count - 1 ? _used : ChunkSize));
    }

    private delegate void SpanAction(ReadOnlySpan<byte> chunk);

    private void ReturnChunks()
    {
        foreach (var chunk in _chunks)
            ArrayPool<byte>.Shared.Return(chunk);
        spool?.Give((long)_chunks.Count * ChunkSize);
        _chunks.Clear();
        _used = ChunkSize;
    }

    public void Dispose()
    {
        ReturnChunks();
        if (_file is not null)
        {
            _file.Dispose();
            _file = null;
            spool?.Released();
        }

        Length = 0;
    }
}
