using MailSink.Storage;
using MailSink.Tests.Support;

namespace MailSink.Tests.Unit;

/// <summary>
/// The log file stream gathers consecutive writes and reads ahead; whatever it does, every read and the
/// file must be what a plain file stream given the same operations would give.
/// </summary>
public sealed class LogFileStreamTests
{
    private const int Page = PlainFileComparison.Page;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Random_operations_give_what_a_plain_file_gives(int seed) =>
        // Positions in whole and half pages, mostly appends and reads in order, as LiteDB's log sees them.
        PlainFileComparison.Run(
            seed,
            path => new LogFileStream(path),
            log => log.WritePending(),
            (random, plain, length) => random.Next(4) switch
            {
                0 => plain.Position,
                1 => plain.Length,
                _ => random.NextInt64(0, length + Page) / (Page / 2) * (Page / 2),
            },
            oddSize: 3);

    [Fact]
    public void Consecutive_writes_reach_the_file_together_when_written_out()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "log");
        using var log = new LogFileStream(path);
        var pages = Enumerable.Range(1, 3).Select(i => Enumerable.Repeat((byte)i, Page).ToArray()).ToArray();

        foreach (var page in pages)
            log.Write(page);

        Assert.True(log.HasPending);
        Assert.Empty(PlainFileComparison.ReadShared(path)); // gathered, not yet in the file
        Assert.Equal(3 * Page, log.Length);

        log.WritePending();

        Assert.False(log.HasPending);
        Assert.Equal(pages.SelectMany(p => p).ToArray(), PlainFileComparison.ReadShared(path));
    }

    [Fact]
    public void A_read_writes_out_what_was_gathered_first()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "log");
        using var log = new LogFileStream(path);
        log.Write(Enumerable.Repeat((byte)7, Page).ToArray());

        log.Position = 0;
        var read = new byte[Page];
        Assert.Equal(Page, PlainFileComparison.ReadFully(log, read));

        Assert.All(read, b => Assert.Equal(7, b));
        Assert.False(log.HasPending);
        Assert.Equal(Page, PlainFileComparison.ReadShared(path).Length);
    }

    [Fact]
    public void A_read_ahead_that_fails_leaves_nothing_stale_to_read()
    {
        using var directory = new TempDirectory();
        var path = Path.Combine(directory.Path, "log");
        using var log = new LogFileStream(path);
        for (var i = 0; i < 40; i++)
            log.Write(Enumerable.Repeat((byte)i, Page).ToArray());
        log.WritePending();

        // Reading page after page: from the second page on, the stream reads 16 pages at a time.
        var page = new byte[Page];
        log.Position = 0;
        for (var i = 0; i < 17; i++)
            Assert.Equal(Page, PlainFileComparison.ReadFully(log, page));

        // The next read ahead (page 17 on) fails, as a disk's I/O error would.
        var eio = EngineFault.InputOutputError(path);
        log.ReadFault = () => eio;
        Assert.Same(eio, Assert.Throws<IOException>(() => log.Read(page, 0, Page)));
        log.ReadFault = null;

        log.Position = 17 * Page;
        Assert.Equal(Page, PlainFileComparison.ReadFully(log, page));
        Assert.All(page, b => Assert.Equal(17, b));
    }
}
