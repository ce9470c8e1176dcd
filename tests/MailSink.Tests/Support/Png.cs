using System.Buffers.Binary;
using System.IO.Compression;

namespace MailSink.Tests.Support;

/// <summary>
/// Just enough of PNG to check a screenshot: its size, and its pixels' mean brightness (8-bit grey, grey
/// with alpha, RGB or RGBA, not interlaced: what Chromium writes).
/// </summary>
public sealed class Png
{
    private Png(int width, int height, double meanBrightness) => (Width, Height, MeanBrightness) = (width, height, meanBrightness);

    public int Width { get; }

    public int Height { get; }

    /// <summary>0 (black) to 255 (white), averaged over every pixel.</summary>
    public double MeanBrightness { get; }

    public static Png Read(byte[] file)
    {
        Assert.True(file.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }), "not a PNG");
        int width = 0, height = 0, depth = 0, colour = 0;
        using var data = new MemoryStream();
        for (var at = 8; at < file.Length;)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(at));
            var type = System.Text.Encoding.ASCII.GetString(file, at + 4, 4);
            var chunk = file.AsSpan(at + 8, length);
            if (type == "IHDR")
            {
                (width, height, depth, colour) = (BinaryPrimitives.ReadInt32BigEndian(chunk), BinaryPrimitives.ReadInt32BigEndian(chunk[4..]), chunk[8], chunk[9]);
                Assert.Equal(0, chunk[12]); // not interlaced
            }
            else if (type == "IDAT")
            {
                data.Write(chunk);
            }

            at += 12 + length;
        }

        Assert.Equal(8, depth);
        var channels = colour switch { 0 => 1, 4 => 2, 2 => 3, 6 => 4, _ => throw new InvalidDataException($"PNG colour type {colour}") };
        data.Position = 0;
        using var inflated = new MemoryStream();
        using (var zlib = new ZLibStream(data, CompressionMode.Decompress))
            zlib.CopyTo(inflated);
        var raw = inflated.ToArray();
        var stride = width * channels;
        var previous = new byte[stride];
        var line = new byte[stride];
        double sum = 0;
        for (var y = 0; y < height; y++)
        {
            var filter = raw[y * (stride + 1)];
            Array.Copy(raw, y * (stride + 1) + 1, line, 0, stride);
            for (var i = 0; i < stride; i++)
            {
                int left = i >= channels ? line[i - channels] : 0, up = previous[i], upLeft = i >= channels ? previous[i - channels] : 0;
                line[i] = (byte)(line[i] + filter switch
                {
                    0 => 0,
                    1 => left,
                    2 => up,
                    3 => (left + up) / 2,
                    4 => Paeth(left, up, upLeft),
                    _ => throw new InvalidDataException($"PNG filter {filter}"),
                });
            }

            for (var x = 0; x < width; x++)
                sum += channels >= 3 ? (line[x * channels] + line[x * channels + 1] + line[x * channels + 2]) / 3.0 : line[x * channels];
            (previous, line) = (line, previous);
        }

        return new Png(width, height, sum / ((double)width * height));
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
