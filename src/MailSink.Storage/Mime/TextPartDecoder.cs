using System.Buffers;
using System.Text;
using MimeKit;

namespace MailSink.Storage.Mime;

/// <summary>
/// <see cref="TextPart.Text"/>, to the character, with one allocation: the string. MimeKit decodes into a
/// growing <see cref="MemoryStream"/> through a charset filter (source charset to UTF-8) and a CRLF-to-LF
/// filter, then decodes that UTF-8 into the string: for 100 KB of text about 480 KB allocated, most of it on
/// the large-object heap. Here the content goes into a pooled buffer, is decoded once with the same charset,
/// and the line ends are fixed in place.
/// <para>
/// The same result, step by step: MimeKit's charset filter never flushes its decoder (an incomplete
/// sequence at the end is dropped, not replaced), and its line-end filter drops each CR before an LF and a
/// CR at the very end. Whatever this cannot reproduce exactly it leaves to MimeKit itself, which then
/// decodes again: a charset that cannot decode the bytes (MimeKit retries in ISO-8859-1), decoded text
/// with unpaired surrogates (MimeKit's UTF-8 encoder throws on them or drops one at the end), a charset
/// whose decoder depends on how the bytes are split (<see cref="DecodesAlikeInPieces"/>), and a platform
/// whose default line end is not LF. The differential tests compare both on broken input.
/// </para>
/// </summary>
internal static class TextPartDecoder
{
    /// <summary>Buffers up to this size are pooled; a larger body (rare) gets arrays the GC takes back.</summary>
    private const int MaxPooled = 1024 * 1024;

    /// <summary>The encoding MimeKit falls back to when none is declared or detected: UTF-8 that throws on invalid bytes.</summary>
    private static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static string GetText(TextPart part)
    {
        var content = part.Content;
        if (content is null || FormatOptions.Default.NewLineFormat != NewLineFormat.Unix)
            return part.Text;
        if (!part.TryDetectEncoding(out var encoding, out _))
            encoding = StrictUtf8;
        if (!DecodesAlikeInPieces(encoding))
            return part.Text;

        using var bytes = new PooledBufferStream(content.Stream is { CanSeek: true } encoded ? encoded.Length : 0);
        content.DecodeTo(bytes);

        char[]? chars = null;
        int length;
        try
        {
            chars = Rent<char>(encoding.GetMaxCharCount(bytes.Count));
            // Never flushed, as in MimeKit's charset filter: an incomplete sequence at the end is dropped.
            length = encoding.GetDecoder().GetChars(bytes.Buffer, 0, bytes.Count, chars, 0, flush: false);
        }
        catch (ArgumentException) // DecoderFallbackException is one; so is a buffer that a charset's own estimate made too small
        {
            if (chars is not null)
                Return(chars);
            return part.Text;
        }

        try
        {
            var text = DropCarriageReturns(chars.AsSpan(0, length));
            if (text.ContainsAnyInRange('\uD800', '\uDFFF') && !IsWellFormed(text))
                return part.Text;
            return new string(text);
        }
        finally
        {
            Return(chars);
        }
    }

    /// <summary>
    /// Whether the charset's decoder gives the same characters from the whole content at once as from the
    /// pieces MimeKit feeds it (4 KB of bytes at a time into 1,024 characters): single-byte charsets, and .NET's
    /// own UTF-8, UTF-16 and UTF-32 decoders, which carry a split sequence over. ISO-2022-JP does not (the
    /// differential test found it); that and the other multi-byte code pages are left to MimeKit.
    /// </summary>
    private static bool DecodesAlikeInPieces(Encoding encoding) =>
        encoding.IsSingleByte || encoding is UTF8Encoding or UnicodeEncoding or UTF32Encoding;

    /// <summary>Drops, in place, every CR followed by an LF and a CR at the end, as MimeKit's Dos2UnixFilter does.</summary>
    private static Span<char> DropCarriageReturns(Span<char> text)
    {
        var read = text.IndexOf('\r');
        if (read < 0)
            return text;

        var write = read;
        while (true)
        {
            if (read + 1 < text.Length && text[read + 1] != '\n')
                text[write++] = '\r';
            read++;
            var next = text[read..].IndexOf('\r');
            var end = next < 0 ? text.Length : read + next;
            text[read..end].CopyTo(text[write..]);
            write += end - read;
            read = end;
            if (next < 0)
                return text[..write];
        }
    }

    private static bool IsWellFormed(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(text, out _, out var used) != OperationStatus.Done)
                return false;
            text = text[used..];
        }

        return true;
    }

    private static T[] Rent<T>(int length) =>
        length <= MaxPooled ? ArrayPool<T>.Shared.Rent(length) : GC.AllocateUninitializedArray<T>(length);

    private static void Return<T>(T[] array)
    {
        if (array.Length <= MaxPooled)
            ArrayPool<T>.Shared.Return(array);
    }

    /// <summary>A write-only stream into one pooled array that grows by doubling.</summary>
    private sealed class PooledBufferStream(long expected) : Stream
    {
        public byte[] Buffer { get; private set; } = Rent<byte>((int)Math.Clamp(expected, 256, Array.MaxLength));

        private int _count;

        /// <summary>Bytes written, at the start of <see cref="Buffer"/>.</summary>
        public int Count => _count;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => _count;

        public override long Position
        {
            get => _count;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (buffer.Length > Buffer.Length - _count)
            {
                var larger = Rent<byte>((int)Math.Min(Array.MaxLength, Math.Max(2L * Buffer.Length, (long)_count + buffer.Length)));
                Buffer.AsSpan(0, _count).CopyTo(larger);
                Return(Buffer);
                Buffer = larger;
            }

            buffer.CopyTo(Buffer.AsSpan(_count));
            _count += buffer.Length;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (Buffer.Length > 0)
                Return(Buffer);
            Buffer = [];
            base.Dispose(disposing);
        }
    }
}
