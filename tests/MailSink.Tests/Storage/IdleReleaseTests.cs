using MailSink.Storage;
using MailSink.Tests.Api;
using MailSink.Tests.Support;

namespace MailSink.Tests.Storage;

/// <summary>
/// Issue 5, item 6 ("memory back near baseline"): LiteDB 5 keeps every page it has touched until the database
/// is closed. After a minute without use the database is closed and opened again and the memory returned.
/// </summary>
[Collection(nameof(TimingCollection))] // measures the managed heap: nothing else may allocate meanwhile
public sealed class IdleReleaseTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Releasing_an_idle_database_gives_back_its_page_cache_and_keeps_every_message()
    {
        await using var storage = new StorageHarness();
        var body = string.Join("\r\n", Enumerable.Range(0, 40).Select(i => $"line {i} of a message that takes some room {Guid.NewGuid()}"));
        var ids = new List<string>();
        for (var i = 0; i < 1500; i++)
            ids.Add((await storage.StoreAsync($"u{i % 7}@idle{i % 5}.localhost", $"message {i}", body)).Id);
        foreach (var id in ids)
            Assert.NotNull(await storage.Messages.GetAsync(id, default)); // every page read into LiteDB's cache

        IdleReleaseHostedService.ReturnMemory();
        var busy = GC.GetTotalMemory(forceFullCollection: true);
        Assert.False(storage.Store.ReleaseIfIdle(TimeSpan.FromMinutes(5))); // used a moment ago: not idle
        Assert.True(storage.Store.ReleaseIfIdle(TimeSpan.Zero));
        IdleReleaseHostedService.ReturnMemory();
        var released = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"managed heap {busy / 1_000_000.0:F1} MB in use, {released / 1_000_000.0:F1} MB after the release");

        Assert.True(busy - released > 4_000_000, $"the release freed only {(busy - released) / 1_000_000.0:F1} MB");
        Assert.False(storage.Store.ReleaseIfIdle(TimeSpan.Zero)); // nothing used since: nothing to release
        Assert.Equal("message 1499", (await storage.Messages.GetAsync(ids[^1], default))!.Subject);
        Assert.Equal(300, (await storage.Inboxes.GetAsync("idle4", default))!.Messages);
        Assert.Single(await storage.Messages.SearchAsync("idle0", new SearchCriteria(null, null, "message 1495", null), 0, 10, null, default));
    }
}
