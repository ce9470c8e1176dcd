using System.Buffers;

namespace MailSink.Server.Smtp;

/// <summary>
/// Collects a message body in pooled chunks while it streams in, then hands out one exact-size array
/// (what the store keeps). Memory in flight is about one message per DATA.
/// </summary>
internal sealed class MessageBuffer : IDisposable
{
    private const int ChunkSize = 64 * 1024;
    private readonly List<byte[]> _chunks = [];
    private int _used = ChunkSize; // no chunk yet

    public long Length { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_used == ChunkSize)
            {
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

    public byte[] ToArray()
    {
        var result = GC.AllocateUninitializedArray<byte>(checked((int)Length));
        var offset = 0;
        for (var i = 0; i < _chunks.Count; i++)
        {
            var n = i == _chunks.Count - 1 ? _used : ChunkSize;
            _chunks[i].AsSpan(0, n).CopyTo(result.AsSpan(offset));
            offset += n;
        }

        return result;
    }

    public void Dispose()
    {
        foreach (var chunk in _chunks)
            ArrayPool<byte>.Shared.Return(chunk);
        _chunks.Clear();
        _used = ChunkSize;
        Length = 0;
    }
}
