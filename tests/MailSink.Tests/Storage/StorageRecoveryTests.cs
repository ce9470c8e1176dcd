using MailSink.Storage;
using MailSink.Tests.Support;

namespace MailSink.Tests.Storage;

/// <summary>
/// Issue 5: LiteDB 5 can leave its engine unusable after an internal error (its page-cache race did, in the
/// soak) while the files stay consistent. The repository then closes and opens the database again, so one
/// failed batch (451) is the whole outage, not every message until a restart.
/// </summary>
public sealed class StorageRecoveryTests
{
    [Fact]
    public async Task After_an_engine_fault_the_failed_write_is_refused_and_the_next_one_is_stored()
    {
        await using var storage = new StorageHarness();
        var before = await storage.StoreAsync("a@box.localhost", "before the fault");

        EngineFault.Inject(storage.Store);
        var refused = await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.StoreAsync("a@box.localhost", "during the fault"));
        var after = await storage.StoreAsync("a@box.localhost", "after the fault");

        Assert.Equal(1, storage.Store.Reopens);
        Assert.NotNull(refused.InnerException);
        Assert.Equal(["after the fault", "before the fault"], (await storage.Messages.ListAsync("box", 0, 10, null, default)).Select(m => m.Subject));
        Assert.Equal("before the fault", (await storage.Messages.GetAsync(before.Id, default))!.Subject);
        Assert.Equal([after.Id], (await storage.Messages.SearchAsync("box", new SearchCriteria(null, null, "after", null), 0, 10, null, default)).Select(m => m.Id));
    }

    [Fact]
    public async Task After_an_engine_fault_in_a_read_the_next_read_works()
    {
        await using var storage = new StorageHarness();
        var stored = await storage.StoreAsync("a@box.localhost", "kept");

        EngineFault.Inject(storage.Store);
        await Assert.ThrowsAsync<StorageUnavailableException>(() => storage.Messages.GetAsync(stored.Id, default));

        Assert.Equal("kept", (await storage.Messages.GetAsync(stored.Id, default))!.Subject);
        Assert.Equal(1, storage.Store.Reopens);
        Assert.Equal(1, (await storage.Inboxes.GetAsync("box", default))!.Messages);
    }
}
