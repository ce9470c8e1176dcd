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
    private const int Page = PlainFileComparison.Page;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Random_operations_give_what_a_plain_file_gives(int seed) =>
        // Mostly whole pages over a few dozen places, as a checkpoint writes them; now and then a write or
        // read of another size, anywhere.
        PlainFileComparison.Run(
            seed,
            path => new DataFileStream(path),
            data => data.Flush(),
            (random, plain, length) => random.Next(5) switch
            {
                0 => plain.Position,
                1 => random.NextInt64(0, length + Page),
                _ => random.Next(40) * (long)Page,
            },
            oddSize: 5);

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
        Assert.Empty(PlainFileComparison.ReadShared(path)); // kept, not yet in the file
        Assert.Equal(3 * Page, data.Length);
        var read = new byte[Page];
        data.Position = 2 * Page;
        Assert.Equal(Page, PlainFileComparison.ReadFully(data, read));
        Assert.All(read, b => Assert.Equal(23, b)); // read from what is kept

        data.Flush();

        Assert.Equal(0, data.PendingPages);
        var file = PlainFileComparison.ReadShared(path);
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
        Assert.Equal((long)DataFileStream.PendingLimit * Page, PlainFileComparison.ReadShared(path).Length);
    }
}
