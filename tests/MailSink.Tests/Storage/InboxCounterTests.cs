using MailSink.Storage;
using MailSink.Tests.Support;

namespace MailSink.Tests.Storage;

/// <summary>
/// Each inbox record carries its message count, kept by every engine in the transactions that add and
/// remove messages: arrivals, deletes, emptying, renaming, deleting the inbox and retention.
/// </summary>
public abstract class InboxCounterTests(StorageEngine engine, PostgreSqlDatabase? database = null)
{
    protected Task<StorageHarness> StartStorageAsync() => StorageHarness.StartAsync(engine, database);

    [Fact]
    public async Task A_subscriber_that_throws_stops_neither_the_writer_nor_the_subscribers_after_it()
    {
        await using var storage = await StartStorageAsync();
        var heard = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var faulty = storage.Feed.Subscribe("feed", _ => throw new InvalidOperationException("a subscriber's own bug"));
        using var next = storage.Feed.Subscribe("feed", m => heard.Enqueue(m.Subject!));

        // A writer stopped by the first announcement would never commit the second.
        await storage.StoreAsync("a@feed.localhost", "first").WaitAsync(TimeSpan.FromSeconds(10));
        await storage.StoreAsync("a@feed.localhost", "second").WaitAsync(TimeSpan.FromSeconds(10));

        await Poll.UntilAsync(() => heard.Count == 2, TimeSpan.FromSeconds(10), "the subscriber after the faulty one heard both");
        Assert.Equal(["first", "second"], heard);
        Assert.Equal(2, storage.Feed.SubscriberFaults);
        Assert.Equal(2, (await storage.Inboxes.GetAsync("feed", default))!.Messages);
    }

    [Fact]
    public async Task Counts_follow_arrivals_deletes_emptying_and_renaming()
    {
        await using var storage = await StartStorageAsync();
        var first = await storage.StoreAsync("a@box.localhost", "one");
        await storage.StoreAsync("a@box.localhost", "two");
        await storage.StoreAsync("a@box.localhost", "three");
        Assert.Equal(3, (await storage.Inboxes.GetAsync("box", default))!.Messages);

        Assert.True(await storage.Messages.DeleteAsync(first.Id, default));
        await storage.StoreAsync("a@box.localhost", "four");
        Assert.Equal(3, (await storage.Inboxes.GetAsync("box", default))!.Messages);

        Assert.Equal(3, (await storage.Messages.DeleteAllAsync("box", default)));
        await storage.StoreAsync("a@box.localhost", "five");
        Assert.Equal(1, (await storage.Inboxes.GetAsync("box", default))!.Messages);

        Assert.NotNull(await storage.Inboxes.RenameAsync("box", "Renamed", default));
        await storage.StoreAsync("a@box.localhost", "six");
        var renamed = (await storage.Inboxes.GetAsync("box", default))!;
        Assert.Equal(("Renamed", 2L), (renamed.Name, renamed.Messages));

        Assert.True(await storage.Inboxes.DeleteAsync("box", default));
        await storage.StoreAsync("a@box.localhost", "seven");
        var again = (await storage.Inboxes.GetAsync("box", default))!;
        Assert.Equal(("box", 1L), (again.Name, again.Messages));
        Assert.Equal(["seven"], (await storage.Messages.ListAsync("box", 0, 10, null, default)).Select(m => m.Subject));
    }

    [Fact]
    public async Task Counts_follow_retention_and_a_two_inbox_message()
    {
        await using var storage = await StartStorageAsync();
        for (var i = 0; i < 5; i++)
            await storage.StoreAsync("a@box.localhost", $"m{i}");
        await storage.Ingest.IngestAsync("Subject: both\r\n\r\nx\r\n"u8.ToArray(),
            new SmtpEnvelope("s@example.com", ["a@box.localhost", "b@other.localhost"], "test", null, null, null, false), CancellationToken.None);

        Assert.Equal(4, await storage.Retention.ApplyRetentionAsync(new StorageOptions { MaxMessagesPerInbox = 2 }, DateTimeOffset.UtcNow, default));
        await storage.StoreAsync("a@box.localhost", "after the trim");

        Assert.Equal(3, (await storage.Inboxes.GetAsync("box", default))!.Messages);
        Assert.Equal(["after the trim", "both", "m4"], (await storage.Messages.ListAsync("box", 0, 10, null, default)).Select(m => m.Subject));
        Assert.Equal(1, (await storage.Inboxes.GetAsync("other", default))!.Messages);
        Assert.Single(await storage.Messages.ListAsync("other", 0, 10, null, default));
    }
}

/// <summary>
/// LiteDB's commits count from an in-memory copy of each record: every other change to a record (deletes,
/// renames, retention, a reopen after a fault) must leave the next commit counting from what is in the database.
/// </summary>
public sealed class LiteDbInboxCounterTests() : InboxCounterTests(StorageEngine.LiteDb)
{
    [Fact]
    public async Task Counts_follow_retention()
    {
        await using var storage = new StorageHarness();
        for (var i = 0; i < 5; i++)
            await storage.StoreAsync("a@box.localhost", $"m{i}");

        Assert.Equal(3, storage.Store.TrimInbox("box", keep: 2, limit: 100));
        await storage.StoreAsync("a@box.localhost", "after the trim");

        Assert.Equal(3, (await storage.Inboxes.GetAsync("box", default))!.Messages);
        Assert.Equal(3, (await storage.Messages.ListAsync("box", 0, 10, null, default)).Count);
    }

    [Fact]
    public async Task Counts_stay_right_across_a_reopen_after_a_fault()
    {
        await using var storage = new StorageHarness();
        await storage.StoreAsync("a@box.localhost", "before");
        EngineFault.Inject(storage.Store);
        await Assert.ThrowsAsync<MailSink.Storage.StorageUnavailableException>(() => storage.StoreAsync("a@box.localhost", "refused"));
        await storage.StoreAsync("a@box.localhost", "after");

        Assert.Equal(2, (await storage.Inboxes.GetAsync("box", default))!.Messages);
    }

    /// <summary>
    /// LiteDB lets an I/O error out of <c>Commit()</c> when the checkpoint that follows a confirmed transaction
    /// fails: the message is in the database although the commit failed. The counters must still agree.
    /// </summary>
    [Fact]
    public async Task Counts_stay_right_when_the_checkpoint_after_a_commit_fails()
    {
        await using var storage = new StorageHarness();
        var repository = storage.Store;
        await storage.StoreAsync("a@box.localhost", "before");

        repository.Database.CheckpointSize = 1; // every commit checkpoints
        // The checkpoint reads the log back; a read that fails as a disk's would makes it fail after the commit.
        var log = repository.LogStream;
        log.ReadFault = () => EngineFault.InputOutputError(log.Path);
        try
        {
            await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.StoreAsync("a@box.localhost", "during"));
        }
        finally
        {
            log.ReadFault = null;
        }

        await storage.StoreAsync("a@box.localhost", "after");

        // "during" is there although its commit failed: LiteDB had confirmed it before the checkpoint failed.
        var listed = (await storage.Messages.ListAsync("box", 0, 10, null, default));
        Assert.Equal(["after", "during", "before"], listed.Select(m => m.Subject));
        Assert.Equal(listed.Count, (await storage.Inboxes.GetAsync("box", default))!.Messages);
        Assert.Equal(1, repository.Reopens); // the failed checkpoint counts as a fault: the database was opened again
    }
}

public sealed class PostgreSqlInboxCounterTests(PostgreSqlDatabase database) : InboxCounterTests(StorageEngine.PostgreSql, database), IClassFixture<PostgreSqlDatabase>;
