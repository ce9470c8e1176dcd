using MailSink.Storage.LiteDb;
using MailSink.Tests.Support;

namespace MailSink.Tests.Unit;

/// <summary>
/// The data file stream keeps whole-page writes until the file is flushed, the last version of each page
/// winning, and writes them out in order; whatever it does, every read and the file must be what a plain
/// file stream given the same operations would give.
/// </summary>
public sealed class DataFileStreamTests
{
    private const int Page = 8192;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Random_operations_give_what_a_plain_file_gives(int seed)
    {
        using var directory = new TempDirectory();
        var random = new Random(seed);
        using var plain = new FileStream(Path.Combine(directory.Path, "plain"), FileMode.CreateNew, FileAccess.ReadWrite);
        var path = Path.Combine(directory.Path, "data");
        using (var data = new DataFileStream(path))
        {
            for (var step = 0; step < 3000; step++)
            {
                // Mostly whole pages over a few dozen places, as a checkpoint writes them; now and then a
                // write or read of another size, anywhere.
                var length = Math.Max(plain.Length, 1);
                var position = random.Next(5) switch
                {
                    0 => plain.Position,
                    1 => random.NextInt64(0, length + Page),
                    _ => random.Next(40) * (long)Page,
                };
                switch (random.Next(20))
                {
                    case < 10:
                        var data1 = new byte[random.Next(6) == 0 ? random.Next(1, 3 * Page) : Page];
                        random.NextBytes(data1);
                        plain.Position = data.Position = position;
                        plain.Write(data1);
                        data.Write(data1);
                        break;
                    case < 17:
                        var count = random.Next(4) == 0 ? random.Next(1, 3 * Page) : Page;
                        var expected = new byte[count];
                        var actual = new byte[count];
                        plain.Position = data.Position = position;
                        var expectedRead = ReadFully(plain, expected);
                        var actualRead = ReadFully(data, actual);
                        Assert.Equal(expectedRead, actualRead);
                        Assert.True(expected.AsSpan(0, expectedRead).SequenceEqual(actual.AsSpan(0, actualRead)), $"step {step}: a read of {count} at {position} differs");
                        break;
                    case 17:
                        var newLength = random.NextInt64(0, length + Page) / Page * Page;
                        plain.SetLength(newLength);
                        data.SetLength(newLength);
                        break;
                    default:
                        data.Flush();
                        break;
                }

                Assert.True(plain.Length == data.Length, $"step {step}: length {data.Length}, a plain file's {plain.Length}");
                Assert.True(plain.Position == data.Position, $"step {step}: position {data.Position}, a plain file's {plain.Position}");
            }
        }

        plain.Flush();
        Assert.Equal(File.ReadAllBytes(plain.Name), File.ReadAllBytes(path));
    }

    [Fact]
    public void Pages_written_again_and_again_reach_the_file_once_each_in_their_last_version_when_flushed()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "data");
        using var data = new DataFileStream(path);

        // As a checkpoint copies the log: page 2 in every commit, pages 0 and 1 in some.
        foreach (var (page, version) in new[] { (2, 1), (0, 1), (2, 2), (1, 1), (2, 3), (0, 2) })
        {
            data.Position = page * Page;
            data.Write(Enumerable.Repeat((byte)(page * 10 + version), Page).ToArray());
        }

        Assert.Equal(3, data.PendingPages);
        Assert.Empty(ReadShared(path)); // kept, not yet in the file
        Assert.Equal(3 * Page, data.Length);
        var read = new byte[Page];
        data.Position = 2 * Page;
        Assert.Equal(Page, ReadFully(data, read));
        Assert.All(read, b => Assert.Equal(23, b)); // read from what is kept

        data.Flush();

        Assert.Equal(0, data.PendingPages);
        var file = ReadShared(path);
        Assert.Equal(3 * Page, file.Length);
        Assert.All(file.AsSpan(0, Page).ToArray(), b => Assert.Equal(2, b));
        Assert.All(file.AsSpan(Page, Page).ToArray(), b => Assert.Equal(11, b));
        Assert.All(file.AsSpan(2 * Page, Page).ToArray(), b => Assert.Equal(23, b));
    }

    [Fact]
    public void Past_the_limit_the_kept_pages_are_written_out_before_more_are_kept()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "data");
        using var data = new DataFileStream(path);
        var page = new byte[Page];

        for (var i = 0; i <= DataFileStream.PendingLimit; i++)
            data.Write(page);

        Assert.Equal(1, data.PendingPages);
        Assert.Equal((long)DataFileStream.PendingLimit * Page, ReadShared(path).Length);
    }

    private static int ReadFully(Stream stream, byte[] buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = stream.Read(buffer, total, buffer.Length - total);
            if (read == 0)
                break;
            total += read;
        }

        return total;
    }

    private static byte[] ReadShared(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        return bytes;
    }
}
