namespace MailSink.Tests.Support;

/// <summary>
/// Runs the same random operations on a plain <see cref="FileStream"/> and on one of MailSink's file streams
/// for LiteDB, asserting after each step that reads, length and position agree, and at the end that the two
/// files hold the same bytes: whatever the stream holds back or reads ahead, nobody can tell.
/// </summary>
internal static class PlainFileComparison
{
    public const int Page = 8192;

    /// <param name="seed">The random operations' seed.</param>
    /// <param name="open">Opens the stream under test on a path.</param>
    /// <param name="writeOut">What makes it write what it holds (the last of the ten kinds of step).</param>
    /// <param name="position">Where the next step happens, given the plain file and its length (at least 1).</param>
    /// <param name="oddSize">One in how many reads and writes is of any size up to three pages instead of one page.</param>
    public static void Run<T>(int seed, Func<string, T> open, Action<T> writeOut, Func<Random, FileStream, long, long> position, int oddSize)
        where T : Stream
    {
        using var directory = new TempDirectory();
        var random = new Random(seed);
        using var plain = new FileStream(Path.Combine(directory.Path, "plain"), FileMode.CreateNew, FileAccess.ReadWrite);
        var path = Path.Combine(directory.Path, "subject");
        using (var subject = open(path))
        {
            for (var step = 0; step < 3000; step++)
            {
                var length = Math.Max(plain.Length, 1);
                var at = position(random, plain, length);
                var size = random.Next(oddSize) == 0 ? random.Next(1, 3 * Page) : Page;
                switch (random.Next(10))
                {
                    case < 5:
                        var data = new byte[size];
                        random.NextBytes(data);
                        plain.Position = subject.Position = at;
                        plain.Write(data);
                        subject.Write(data);
                        break;
                    case < 8:
                        var expected = new byte[size];
                        var actual = new byte[size];
                        plain.Position = subject.Position = at;
                        var expectedRead = ReadFully(plain, expected);
                        var actualRead = ReadFully(subject, actual);
                        Assert.Equal(expectedRead, actualRead);
                        Assert.True(expected.AsSpan(0, expectedRead).SequenceEqual(actual.AsSpan(0, actualRead)), $"step {step}: a read of {size} at {at} differs");
                        break;
                    case 8:
                        var newLength = random.NextInt64(0, length + Page) / Page * Page;
                        plain.SetLength(newLength);
                        subject.SetLength(newLength);
                        break;
                    default:
                        writeOut(subject);
                        break;
                }

                Assert.True(plain.Length == subject.Length, $"step {step}: length {subject.Length}, a plain file's {plain.Length}");
                Assert.True(plain.Position == subject.Position, $"step {step}: position {subject.Position}, a plain file's {plain.Position}");
            }
        }

        plain.Flush();
        Assert.Equal(File.ReadAllBytes(plain.Name), File.ReadAllBytes(path));
    }

    /// <summary>Reads until the buffer is full or the stream ends; how many bytes were read.</summary>
    public static int ReadFully(Stream stream, byte[] buffer)
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

    /// <summary>The file's bytes, read beside a stream that has it open.</summary>
    public static byte[] ReadShared(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var bytes = new byte[file.Length];
        file.ReadExactly(bytes);
        return bytes;
    }
}
