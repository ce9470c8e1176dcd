using System.Buffers;
using MimeKit;
using MimeKit.Encodings;

namespace MailSink.Storage.Mime;

/// <summary>
/// How many bytes <see cref="IMimeContent.DecodeTo"/> writes, without decoding where the number follows from
/// the encoded bytes. MimeKit's base64 decoder runs at about 250 MB/s (not vectorised): 34 ms of a 25 MB
/// attachment's parse went to decoding it only to count. Content that is not transfer-encoded is as long as
/// it is stored. Quoted-printable and uuencode are still decoded, into a stream that only counts.
/// </summary>
internal static class DecodedLength
{
    private static readonly SearchValues<byte> Alphabet =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"u8);

    private static readonly SearchValues<byte> AlphabetAndLineEnds =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/\r\n"u8);

    public static long Of(IMimeContent content)
    {
        switch (content.Encoding)
        {
            // MimeKit's vectorised decoder is off by default (a .NET 10 bug); when on, it may count otherwise.
            case ContentEncoding.Base64 when content.Stream is { CanSeek: true } encoded && !Base64Decoder.EnableHardwareAcceleration:
                return Base64(encoded);
            case ContentEncoding.Base64 or ContentEncoding.QuotedPrintable or ContentEncoding.UUEncode:
                break;
            // Any other encoding is copied as it is (MimeKit's DecoderFilter.Create gives a pass-through filter).
            default:
                if (content.Stream is { CanSeek: true } stored)
                    return stored.Length;
                break;
        }

        using var counter = new CountingStream();
        content.DecodeTo(counter);
        return counter.Length;
    }

    /// <summary>
    /// What MimeKit's <see cref="Base64Decoder"/> writes for <paramref name="encoded"/>. It skips every byte
    /// outside the alphabet and '=' (line ends, spaces, junk), takes the rest four at a time, and of each
    /// complete four writes 0 bytes when the second is '=', else 1 when the third is, else 2 when the fourth is,
    /// else 3; an incomplete four at the end writes nothing. Padding in the middle does not stop it.
    /// </summary>
    internal static long Base64(Stream encoded)
    {
        long taken = 0, shortened = 0, paddedQuartet = -1;
        var firstPad = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            encoded.Seek(0, SeekOrigin.Begin);
            int read;
            while ((read = encoded.Read(buffer, 0, buffer.Length)) > 0)
            {
                var span = buffer.AsSpan(0, read);
                if (!span.ContainsAnyExcept(AlphabetAndLineEnds))
                {
                    // The usual block: lines of the alphabet and nothing else.
                    taken += read - span.Count((byte)'\r') - span.Count((byte)'\n');
                    continue;
                }

                while (!span.IsEmpty)
                {
                    var stop = span.IndexOfAnyExcept(Alphabet);
                    if (stop < 0)
                    {
                        taken += span.Length;
                        break;
                    }

                    taken += stop;
                    if (span[stop] == (byte)'=')
                    {
                        var quartet = taken >> 2;
                        var position = (int)(taken & 3);
                        if (position > 0 && quartet != paddedQuartet)
                        {
                            // The first '=' of a four decides; an earlier four with one is complete by now.
                            if (paddedQuartet >= 0)
                                shortened += 4 - firstPad;
                            (paddedQuartet, firstPad) = (quartet, position);
                        }

                        taken++;
                    }

                    span = span[(stop + 1)..];
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var complete = taken >> 2;
        if (paddedQuartet >= 0 && paddedQuartet < complete)
            shortened += 4 - firstPad;
        return (complete * 3) - shortened;
    }
}
