using MailSink.Storage;
using MailSink.Tests.Support;

namespace MailSink.Tests.Storage;

/// <summary>Devices are kept like inboxes (a restart, or another node, sees them); usage counts what is kept, by day.</summary>
public abstract class DeviceAndUsageTests(StorageEngine engine, PostgreSqlDatabase? database = null)
{
    protected PostgreSqlDatabase? Database => database;

    protected Task<StorageHarness> StartStorageAsync() => StorageHarness.StartAsync(engine, database);

    /// <summary>A store that <see cref="ReopenAsync"/> can open again.</summary>
    protected virtual Task<StorageHarness> StartKeptAsync() => StartStorageAsync();

    /// <summary>The same store opened again (the first one closed): the LiteDB file reopened, or a node on the PostgreSQL database.</summary>
    protected abstract Task<StorageHarness> ReopenAsync();

    [Fact]
    public async Task Devices_are_created_listed_found_and_deleted_and_outlive_the_process()
    {
        var storage = await StartKeptAsync();
        var phone = await storage.Devices.CreateAsync("phone", "ONSWG4TFOQYTEMY", default);
        var tablet = await storage.Devices.CreateAsync("tablet", "JBSWY3DPEHPK3PXP", default);
        Assert.True(Guid.TryParse(phone.Id, out _), phone.Id);
        Assert.Contains('-', phone.Id);
        Assert.NotEqual(phone.Id, tablet.Id);

        Assert.Equal(["phone", "tablet"], (await storage.Devices.ListAsync(default)).Select(d => d.Name));
        var found = await storage.Devices.GetAsync(phone.Id, default);
        Assert.Equal(("phone", "ONSWG4TFOQYTEMY"), (found!.Name, found.SharedSecret));

        Assert.True(await storage.Devices.DeleteAsync(tablet.Id, default));
        Assert.False(await storage.Devices.DeleteAsync(tablet.Id, default));
        Assert.Null(await storage.Devices.GetAsync(tablet.Id, default));

        await storage.DisposeAsync();
        await using var again = await ReopenAsync();
        var kept = Assert.Single(await again.Devices.ListAsync(default));
        Assert.Equal((phone.Id, "phone", "ONSWG4TFOQYTEMY"), (kept.Id, kept.Name, kept.SharedSecret));
    }

    [Fact]
    public async Task Analyses_are_kept_with_their_message_outlive_the_process_and_go_with_it()
    {
        var storage = await StartKeptAsync();
        var kept = await storage.StoreAsync("a@box.localhost", "kept");
        var deleted = await storage.StoreAsync("a@box.localhost", "deleted");
        var emptied = await storage.StoreAsync("b@other.localhost", "emptied");
        foreach (var message in new[] { kept, deleted, emptied })
            await storage.Analyses.SaveAnalysisAsync(message.Id, "deliverability", $$"""{"for":"{{message.Subject}}"}""", default);
        await storage.Analyses.SaveAnalysisAsync(kept.Id, "deliverability", """{"for":"kept, again"}""", default); // replaced
        await storage.Analyses.SaveAnalysisAsync(Guid.NewGuid().ToString(), "deliverability", "{}", default);    // no such message: nothing

        Assert.Equal("""{"for":"kept, again"}""", await storage.Analyses.GetAnalysisAsync(kept.Id, "deliverability", default));
        Assert.Null(await storage.Analyses.GetAnalysisAsync(kept.Id, "other-kind", default));
        Assert.True(await storage.Messages.DeleteAsync(deleted.Id, default));
        Assert.Null(await storage.Analyses.GetAnalysisAsync(deleted.Id, "deliverability", default));
        Assert.Equal(1, await storage.Messages.DeleteAllAsync("other", default));
        Assert.Null(await storage.Analyses.GetAnalysisAsync(emptied.Id, "deliverability", default));

        await storage.DisposeAsync();
        await using var again = await ReopenAsync();
        Assert.Equal("""{"for":"kept, again"}""", await again.Analyses.GetAnalysisAsync(kept.Id, "deliverability", default));
    }

    [Fact]
    public async Task Usage_counts_the_messages_kept_by_the_day_they_arrived()
    {
        await using var storage = await StartStorageAsync();
        var first = await storage.StoreAsync("a@one.localhost", "1");
        await storage.StoreAsync("b@one.localhost", "2");
        await storage.StoreAsync("c@two.localhost", "3");
        await storage.Ingest.IngestAsync("Subject: both\r\n\r\nx\r\n"u8.ToArray(),
            new SmtpEnvelope("s@example.com", ["a@one.localhost", "b@three.localhost"], "test", null, null, null, false), CancellationToken.None);

        var today = DateOnly.FromDateTime(first.Received.UtcDateTime);
        var since = new DateTimeOffset(today.AddDays(-30).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        var counts = await storage.Usage.CountByDayAsync(since, default);
        // A message to two inboxes is two copies, as each inbox lists it. (A test run across midnight UTC may split the day.)
        Assert.Equal(5, counts.Sum(c => c.Messages));
        Assert.All(counts, c => Assert.InRange(c.Day, today, today.AddDays(1)));

        Assert.True(await storage.Messages.DeleteAsync(first.Id, default));
        Assert.Equal(4, (await storage.Usage.CountByDayAsync(since, default)).Sum(c => c.Messages));
        Assert.Empty(await storage.Usage.CountByDayAsync(since.AddDays(40), default));
    }
}

public sealed class LiteDbDeviceAndUsageTests() : DeviceAndUsageTests(StorageEngine.LiteDb), IDisposable
{
    private readonly TempDirectory _folder = new();

    protected override Task<StorageHarness> StartKeptAsync() => Task.FromResult(new StorageHarness(directory: _folder.Path));

    protected override Task<StorageHarness> ReopenAsync() => Task.FromResult(new StorageHarness(directory: _folder.Path));

    public void Dispose() => _folder.Dispose();
}

public sealed class PostgreSqlDeviceAndUsageTests(PostgreSqlDatabase database)
    : DeviceAndUsageTests(StorageEngine.PostgreSql, database), IClassFixture<PostgreSqlDatabase>
{
    protected override Task<StorageHarness> ReopenAsync() => StorageHarness.StartAsync(StorageEngine.PostgreSql, Database, emptyFirst: false);
}
