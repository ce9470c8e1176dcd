using System.Buffers;
using System.IO.Compression;

namespace MailSink.Storage.Ingest;

/// <summary>
/// A raw message as it is stored: chunks (under LiteDB's 16 MB document limit), each Brotli-compressed
/// when that saves space. Mail is text: a 2 KB message shrinks to a third or less,
/// base64 attachments to about three quarters, at 200-600 MB/s on one core (quality 1). Small mail is
/// where the bytes go otherwise: a 2 KB message stored as is fills a third of an 8 KiB page. Compression
/// runs on the session's thread, before the message is queued for the single writer.
/// </summary>
internal sealed class RawMessage
{
    /// <summary>LiteDB documents are limited to 16 MB; raw messages are split well below that.</summary>
    internal const int ChunkBytes = 4 * 1024 * 1024;

    /// <summary>
    /// A raw message that takes at most this many bytes as stored goes into its message document
    /// (a LiteDB document's <c>RawData</c>) rather than apart from it: one document and
    /// one index fewer per commit, which is what a commit of a single small message mostly costs.
    /// </summary>
    internal const int EmbedBytes = 4096;

    /// <summary>The value of a chunk's <c>z</c> field when its data is Brotli-compressed (absent: stored as is).</summary>
    internal const int Brotli = 1;

    private const int Quality = 1;

    /// <summary>
    /// For messages of up to <see cref="EmbedBytes"/> as received: 2-4% smaller than quality 1 for about
    /// 3 µs more. That can be what lets one more document fit on a page; larger ones pay 3-6× the time for it.
    /// </summary>
    private const int SmallQuality = 3;

    private const int Window = 22;

    private RawMessage(int length, List<Chunk> chunks)
    {
        Length = length;
        Chunks = chunks;
        StoredBytes = chunks.Sum(c => (long)c.Data.Length);
    }

    internal readonly record struct Chunk(byte[] Data, bool Compressed);

    /// <summary>Bytes as received.</summary>
    public int Length { get; }

    /// <summary>Bytes as they go into the database.</summary>
    public long StoredBytes { get; }

    public IReadOnlyList<Chunk> Chunks { get; }

    /// <summary>Whether the message goes into its documents (see <see cref="EmbedBytes"/>).</summary>
    public bool Embedded => Chunks.Count == 1 && StoredBytes <= EmbedBytes;

    public static RawMessage Pack(byte[] raw)
    {
        var count = Math.Max(1, (raw.Length + ChunkBytes - 1) / ChunkBytes);
        var chunks = new List<Chunk>(count);
        for (var i = 0; i < count; i++)
        {
            var start = i * ChunkBytes;
            var length = Math.Min(ChunkBytes, raw.Length - start);
            chunks.Add(Compress(raw, start, length));
        }

        return new RawMessage(raw.Length, chunks);
    }

    /// <summary>The chunk compressed when that saves at least one byte in 32; otherwise as it is.</summary>
    private static Chunk Compress(byte[] raw, int start, int length)
    {
        var source = raw.AsSpan(start, length);
        var room = length - (length / 32) - 1;
        if (room > 0)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(room);
            try
            {
                // TryCompress answers false when the output would not fit the room: not worth compressing.
                var quality = length <= EmbedBytes ? SmallQuality : Quality;
                if (BrotliEncoder.TryCompress(source, buffer.AsSpan(0, room), out var written, quality, Window))
                    return new Chunk(buffer.AsSpan(0, written).ToArray(), Compressed: true);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return new Chunk(start == 0 && length == raw.Length ? raw : source.ToArray(), Compressed: false);
    }

    /// <summary>A whole raw message stored in one piece (compressed or not), as received.</summary>
    public static byte[] Unpack(byte[] data, bool compressed, long size, string what)
    {
        var raw = new byte[size];
        var written = Unpack(data, compressed, raw, what);
        if (written != raw.Length)
            throw new InvalidDataException($"The raw message of {what} holds {written} bytes, not the {raw.Length} recorded.");
        return raw;
    }

    /// <summary>Writes one stored piece's bytes, as received, into <paramref name="target"/>; returns how many.</summary>
    public static int Unpack(byte[] data, bool compressed, Span<byte> target, string what)
    {
        if (!compressed)
        {
            data.CopyTo(target);
            return data.Length;
        }

        if (!BrotliDecoder.TryDecompress(data, target, out var written))
            throw new InvalidDataException($"The raw bytes of {what} cannot be decompressed.");
        return written;
    }
}
