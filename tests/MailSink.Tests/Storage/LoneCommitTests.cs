using System.Text;
using MailSink.Storage;
using MailSink.Tests.Support;

namespace MailSink.Tests.Storage;

/// <summary>
/// A sender that is alone commits on its own thread when no commit is under way; everyone else is queued for
/// the writer's group commit. Either way each write is committed exactly once, before its task completes.
/// </summary>
public sealed class LoneCommitTests
{
    private static readonly SmtpEnvelope Envelope = new("a@b.example", ["x@lone.localhost"], "test", null, null, null, false);

    private static byte[] Raw(string subject) => Encoding.ASCII.GetBytes($"Subject: {subject}\r\n\r\nbody\r\n");

    [Fact]
    public async Task A_lone_sender_finds_its_message_committed_when_the_call_returns()
    {
        await using var storage = new StorageHarness();

        var ingest = storage.Ingest.IngestAsync(Raw("lone"), Envelope, CancellationToken.None, alone: true);

        // Nothing was queued for the writer: the commit ran inside the call, before it returned its task.
        Assert.True(ingest.IsCompletedSuccessfully);
        var stored = Assert.Single(await ingest);
        Assert.Equal("lone", (await storage.Messages.GetAsync(stored.Id, default))!.Subject);
        Assert.Equal(1, (await storage.Inboxes.GetAsync("lone", default))!.Messages);
    }

    [Fact]
    public async Task A_lone_sender_does_not_wait_for_a_busy_database_but_queues_its_message()
    {
        await using var storage = new StorageHarness();
        var gate = storage.Store.Gate;
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var reader = Task.Factory.StartNew(() =>
        {
            lock (gate) // as an API read holds it
            {
                held.Set();
                release.Wait();
            }
        }, TaskCreationOptions.LongRunning);
        held.Wait();

        Task<IReadOnlyList<StoredMessage>> ingest;
        try
        {
            // Started on another thread so that a call that did wait for the gate fails the test instead of hanging it.
            var call = Task.Factory.StartNew(() => storage.Ingest.IngestAsync(Raw("queued"), Envelope, CancellationToken.None, alone: true));
            ingest = await call.WaitAsync(TimeSpan.FromSeconds(10)); // TimeoutException if the write waited for the gate
            Assert.False(ingest.IsCompleted); // queued: the writer loop commits it once the database is free
        }
        finally
        {
            release.Set();
        }

        await reader;
        var stored = Assert.Single(await ingest.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("queued", (await storage.Messages.GetAsync(stored.Id, default))!.Subject);
    }

    [Fact]
    public async Task Lone_and_queued_writes_from_many_threads_are_each_committed_once()
    {
        await using var storage = new StorageHarness();
        const int Senders = 8, Each = 150;

        var sent = await Task.WhenAll(Enumerable.Range(0, Senders).Select(sender => Task.Run(async () =>
        {
            var ids = new List<string>();
            for (var i = 0; i < Each; i++)
            {
                var stored = await storage.Ingest.IngestAsync(Raw($"s{sender} m{i}"), Envelope, CancellationToken.None, alone: (i + sender) % 2 == 0);
                ids.Add(stored[0].Id);
            }

            return ids;
        })));

        var all = sent.SelectMany(ids => ids).ToList();
        Assert.Equal(Senders * Each, all.Distinct().Count());
        Assert.Equal(Senders * Each, (await storage.Inboxes.GetAsync("lone", default))!.Messages);
        var listed = (await storage.Messages.ListAsync("lone", 0, Senders * Each + 10, null, default));
        Assert.Equal(all.Order(StringComparer.Ordinal), listed.Select(m => m.Id).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task After_the_writer_stopped_a_lone_write_is_refused()
    {
        await using var storage = new StorageHarness();
        await storage.Writer.StopAsync();

        await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.Ingest.IngestAsync(Raw("late"), Envelope, CancellationToken.None, alone: true));
        Assert.Null(await storage.Inboxes.GetAsync("lone", default));
    }
}
