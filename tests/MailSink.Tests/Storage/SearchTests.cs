using MailSink.Storage;
using MailSink.Tests.Support;

namespace MailSink.Tests.Storage;

/// <summary>Search stays exact while mail arrives and is deleted, on every engine.</summary>
public abstract class SearchTests(StorageEngine engine, PostgreSqlDatabase? database = null)
{
    protected static SearchCriteria Subject(string subject) => new(null, null, subject, null);

    protected Task<StorageHarness> StartStorageAsync() => StorageHarness.StartAsync(engine, database);

    [Fact]
    public async Task Messages_arriving_after_the_first_search_are_found_and_deleted_ones_are_not()
    {
        await using var storage = await StartStorageAsync();
        var first = await storage.StoreAsync("a@box.localhost", "alpha one");
        Assert.Equal([first.Id], (await storage.Messages.SearchAsync("box", Subject("alpha"), 0, 10, null, default)).Select(m => m.Id));

        var second = await storage.StoreAsync("b@box.localhost", "alpha two");
        var other = await storage.StoreAsync("c@box.localhost", "beta");
        Assert.Equal([second.Id, first.Id], (await storage.Messages.SearchAsync("box", Subject("ALPHA"), 0, 10, null, default)).Select(m => m.Id));
        Assert.Equal([other.Id], (await storage.Messages.SearchAsync("box", new SearchCriteria(null, "C@BOX.localhost", null, null), 0, 10, null, default)).Select(m => m.Id));

        Assert.True(await storage.Messages.DeleteAsync(second.Id, default));
        Assert.Equal([first.Id], (await storage.Messages.SearchAsync("box", Subject("alpha"), 0, 10, null, default)).Select(m => m.Id));

        await storage.Messages.DeleteAllAsync("box", default);
        Assert.Empty(await storage.Messages.SearchAsync("box", Subject("alpha"), 0, 10, null, default));
        var third = await storage.StoreAsync("a@box.localhost", "alpha three");
        Assert.Equal([third.Id], (await storage.Messages.SearchAsync("box", Subject("alpha"), 0, 10, null, default)).Select(m => m.Id));
    }

    [Fact]
    public async Task A_search_started_after_a_commit_always_sees_it_even_while_the_index_loads()
    {
        await using var storage = await StartStorageAsync();
        for (var i = 0; i < 200; i++)
            await storage.StoreAsync("a@busy.localhost", $"seed {i}");

        var writing = Task.Run(async () =>
        {
            var ids = new List<string>();
            for (var i = 0; i < 300; i++)
            {
                var stored = await storage.StoreAsync("a@busy.localhost", $"live {i}");
                ids.Add(stored.Id);
                var found = (await storage.Messages.SearchAsync("busy", new SearchCriteria(null, null, $"live {i}", null), 0, 1, null, default));
                Assert.Equal(stored.Id, Assert.Single(found).Id);
            }

            return ids;
        });
        var searching = Task.Run(async () =>
        {
            while (!writing.IsCompleted)
                await storage.Messages.SearchAsync("busy", Subject("seed"), 0, 5, null, default);
        });

        var written = await writing;
        await searching;
        Assert.Equal(300, (await storage.Messages.SearchAsync("busy", Subject("live"), 0, 1000, null, default)).Count);
        Assert.Equal(written.AsEnumerable().Reverse(), (await storage.Messages.SearchAsync("busy", Subject("live"), 0, 1000, null, default)).Select(m => m.Id));
    }

    [Fact]
    public async Task Body_search_reads_a_message_only_when_its_answer_depends_on_the_body()
    {
        await using var storage = await StartStorageAsync();
        await storage.StoreAsync("a@b.localhost", "one", body: "needle here");
        await storage.StoreAsync("a@b.localhost", "two", body: "nothing");

        Assert.Equal(["one"], (await storage.Messages.SearchAsync("b", new SearchCriteria(null, null, null, "NEEDLE"), 0, 10, null, default)).Select(m => m.Subject));
        Assert.Equal(["two", "one"], (await storage.Messages.SearchAsync("b", new SearchCriteria(null, null, "two", "needle", SearchMatch.Any), 0, 10, null, default)).Select(m => m.Subject));
        Assert.Empty(await storage.Messages.SearchAsync("b", new SearchCriteria(null, null, "two", "needle"), 0, 10, null, default));

        var facts = new SearchFacts("x", 1, ["s@x"], ["r@x"], "subject");
        var asked = 0;
        bool Body() => ++asked > 0;
        Assert.False(new SearchCriteria("other@x", null, null, "b").Matches(facts, Body)); // ALL: decided by the sender
        Assert.True(new SearchCriteria("S@X", null, null, "b", SearchMatch.Any).Matches(facts, Body)); // ANY: decided by the sender
        Assert.Equal(0, asked);
        Assert.True(new SearchCriteria("s@x", null, null, "b").Matches(facts, Body));
        Assert.Equal(1, asked);
    }

    [Fact]
    public async Task A_message_found_by_a_search_is_read_in_full_by_the_waiter()
    {
        await using var storage = await StartStorageAsync();
        await storage.StoreAsync("a@b.localhost", "found", body: "needle here");

        // What a search gives without the body is what a listing shows: the waiter reads it in full.
        var listed = Assert.Single(await storage.Messages.SearchAsync("b", Subject("found"), 0, 10, null, default));
        Assert.False(listed.ContentLoaded);
        Assert.Null(listed.Text);
        var waited = await new MessageWaiter(storage.Messages, storage.Feed).WaitAsync("b", Subject("found"), null, TimeSpan.FromSeconds(1), default);
        Assert.Contains("needle here", waited!.Text);
        var byBody = await new MessageWaiter(storage.Messages, storage.Feed).WaitAsync("b", new SearchCriteria(null, null, null, "NEEDLE"), null, TimeSpan.FromSeconds(1), default);
        Assert.Contains("needle here", byBody!.Text);
    }
}

/// <summary>Search through LiteDB's in-memory index.</summary>
public sealed class LiteDbSearchTests() : SearchTests(StorageEngine.LiteDb)
{
    [Fact]
    public async Task A_message_found_by_its_body_is_not_parsed_again_for_the_full_answer()
    {
        await using var storage = new StorageHarness();
        await storage.StoreAsync("a@b.localhost", "found", body: "needle here");
        var found = Assert.Single(await storage.Messages.SearchAsync("b", new SearchCriteria(null, null, null, "needle"), 0, 10, null, default));
        Assert.True(found.ContentLoaded); // the waiter answers with it as it is
        Assert.Contains("needle here", found.Text);
    }
}

/// <summary>Search in PostgreSQL, in a database of this class's own.</summary>
public sealed class PostgreSqlSearchTests(PostgreSqlDatabase database) : SearchTests(StorageEngine.PostgreSql, database), IClassFixture<PostgreSqlDatabase>;
