using System.Collections.Concurrent;
using System.Text;
using MailSink.Storage;
using MailSink.Storage.PostgreSql;
using MailSink.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MailSink.Tests.Storage;

/// <summary>
/// What only the PostgreSQL engine promises: search through its indexes, several nodes on one database
/// (schema, receive times, arrivals), and a listener that finds its way back after losing its connection.
/// </summary>
public sealed class PostgreSqlEngineTests(PostgreSqlDatabase database, ITestOutputHelper output) : IClassFixture<PostgreSqlDatabase>
{
    /// <summary>5,000 messages of 1.3 KB of words that hardly compress, in one inbox; the needle is in one.</summary>
    [Fact]
    public async Task A_body_search_over_thousands_of_messages_is_a_trigram_index_lookup()
    {
        await using var storage = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database);
        await FillBigInboxAsync(storage);

        Assert.Contains(Migrations.BodyIndex, await BodySearchPlanAsync(storage, "needle-4242"), StringComparison.Ordinal);
        Assert.Equal(["real"], (await storage.Messages.SearchAsync("big", new SearchCriteria(null, null, null, "needle-4242"), 0, 50, null, default)).Select(m => m.Subject));
    }

    /// <summary>
    /// <c>BodySearchIndex</c> false drops the body index at start, and a body search over thousands of messages
    /// then reads the bodies, with the same answers; true again makes it again (over the rows already there).
    /// </summary>
    [Fact]
    public async Task The_body_index_is_dropped_and_made_again_as_configured_and_searches_answer_the_same_either_way()
    {
        await using (var storage = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database, bodySearchIndex: false))
        {
            Assert.Null(await BodyIndexValidAsync(storage.PostgreSql.DataSource));
            await FillBigInboxAsync(storage);
            Assert.DoesNotContain(Migrations.BodyIndex, await BodySearchPlanAsync(storage, "needle-4242"), StringComparison.Ordinal);
            Assert.Equal(["real"], (await storage.Messages.SearchAsync("big", new SearchCriteria(null, null, null, "needle-4242"), 0, 50, null, default)).Select(m => m.Subject));
            Assert.Empty(await storage.Messages.SearchAsync("big", new SearchCriteria(null, null, null, "needle-4243"), 0, 50, null, default));
        }

        await using (var storage = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database, emptyFirst: false))
        {
            Assert.True(await BodyIndexValidAsync(storage.PostgreSql.DataSource));
            Assert.Contains(Migrations.BodyIndex, await BodySearchPlanAsync(storage, "needle-4242"), StringComparison.Ordinal);
            Assert.Equal(["real"], (await storage.Messages.SearchAsync("big", new SearchCriteria(null, null, null, "needle-4242"), 0, 50, null, default)).Select(m => m.Subject));
            Assert.Empty(await storage.Messages.SearchAsync("big", new SearchCriteria(null, null, null, "needle-4243"), 0, 50, null, default));
        }
    }

    /// <summary>One real message with NEEDLE-4242 in inbox "big", and 5,000 rows of 1.3 KB of words that hardly compress beside it.</summary>
    private static async Task FillBigInboxAsync(StorageHarness storage)
    {
        await storage.StoreAsync("a@big.localhost", "real", "a real message with NEEDLE-4242 in it");
        await using var fill = storage.PostgreSql.DataSource.CreateCommand(
            """
            INSERT INTO contents (id, refs, size, raw, raw_compressed, summary, detail, subject_fold, senders_fold, recipients_fold, body_fold, bytes)
            SELECT 'c' || n, 1, 100, '{}', '{}', '{}', '{}', 'MESSAGE ' || n, ARRAY['S@EXAMPLE.COM'], ARRAY['A@BIG.LOCALHOST'],
                   (SELECT upper(string_agg(md5(n::text || '/' || i), ' ')) FROM generate_series(1, 40) i), 0
            FROM generate_series(1, 5000) n;
            INSERT INTO messages (id, inbox, received, size, content_id, attachment_ids, bytes)
            SELECT 'm' || n, 'big', n, 100, 'c' || n, '{}', 0 FROM generate_series(1, 5000) n;
            """);
        await fill.ExecuteNonQueryAsync();
        await using var vacuum = storage.PostgreSql.DataSource.CreateCommand("VACUUM ANALYZE contents");
        await vacuum.ExecuteNonQueryAsync();
        vacuum.CommandText = "VACUUM ANALYZE messages";
        await vacuum.ExecuteNonQueryAsync();
    }

    /// <summary>PostgreSQL's plan for a body search of inbox "big" that starts from the indexes.</summary>
    private async Task<string> BodySearchPlanAsync(StorageHarness storage, string needle)
    {
        var filter = SearchFilter.For(new SearchCriteria(null, null, null, needle));
        Assert.True(filter.Exact);
        await using var connection = await storage.PostgreSql.DataSource.OpenConnectionAsync();
        await using var explain = PostgreSqlStore.SearchCommand(connection, "big", null, filter, narrow: false, "ORDER BY m.received DESC OFFSET @skip LIMIT @take", ("skip", 0L), ("take", 50L));
        explain.CommandText = "EXPLAIN " + explain.CommandText;
        var plan = new StringBuilder();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
                plan.AppendLine(reader.GetString(0));
        }

        output.WriteLine(plan.ToString());
        return plan.ToString();
    }

    /// <summary>Whether the body index is there and valid (null: not there).</summary>
    private static async Task<bool?> BodyIndexValidAsync(NpgsqlDataSource database)
    {
        await using var command = database.CreateCommand($"SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('{Migrations.BodyIndex}')");
        return await command.ExecuteScalarAsync() as bool?;
    }

    /// <summary>
    /// A search over few messages reads them and checks each; over many it starts from the indexes. Both
    /// plans must give the same answers (the contract tests, on small inboxes, see mostly the first).
    /// </summary>
    [Fact]
    public async Task A_search_that_checks_each_message_and_one_that_starts_from_the_indexes_agree()
    {
        await using var storage = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database);
        var words = new[] { "alpha", "beta", "gamma", "delta", "caf\u00e9", "STRASSE", "stra\u00dfe" };
        for (var i = 0; i < 120; i++)
        {
            var raw = $"From: s{i % 7}@example.com\r\nTo: r{i % 5}@plans.localhost\r\nSubject: {words[i % words.Length]} {i}\r\n\r\n{words[(i * 3) % words.Length]} and more {i % 11}\r\n";
            await storage.StoreRawAsync($"r{i % 5}@plans.localhost", Encoding.UTF8.GetBytes(raw), $"s{i % 7}@example.com");
        }

        SearchCriteria[] criteria =
        [
            new(null, null, "alpha", null), new(null, null, null, "GAMMA"), new("S3@example.com", null, null, null),
            new(null, "r2@plans.localhost", null, null), new(null, null, "delta", "beta", SearchMatch.Any),
            new("s1@example.com", null, null, "caf\u00e9", SearchMatch.Any), new(null, null, "stra\u00dfe", null), new(null, null, "1", "more 5"),
        ];
        await using var connection = await storage.PostgreSql.DataSource.OpenConnectionAsync();
        foreach (var criterion in criteria)
        {
            var filter = SearchFilter.For(criterion);
            var answers = new List<string>[2];
            foreach (var narrow in new[] { true, false })
            {
                await using var command = PostgreSqlStore.SearchCommand(connection, "plans", null, filter, narrow, "ORDER BY m.received DESC");
                answers[narrow ? 0 : 1] = (await PostgreSqlStore.ReadListedAsync(command, default)).Select(m => m.Id).ToList();
            }

            Assert.NotEmpty(answers[0]);
            Assert.Equal(answers[0], answers[1]);
        }
    }

    [Fact]
    public async Task Two_nodes_on_one_database_see_every_arrival_once_each_node_s_in_commit_order_with_times_increasing_across_both()
    {
        await using var first = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database);
        await using var second = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database, emptyFirst: false);
        var seen = new[] { new ConcurrentQueue<StoredMessage>(), new ConcurrentQueue<StoredMessage>() };
        using var firstFeed = first.Feed.Subscribe(null, seen[0].Enqueue);
        using var secondFeed = second.Feed.Subscribe(null, seen[1].Enqueue);

        // Both nodes write at once, each from several sessions, some messages to two inboxes.
        var stored = new ConcurrentBag<StoredMessage>();
        var origin = new ConcurrentDictionary<string, int>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(session => Task.Run(async () =>
        {
            var node = session % 2 == 0 ? first : second;
            for (var i = 0; i < 40; i++)
            {
                var to = i % 10 == 0 ? new[] { $"a@n{session}.localhost", "b@shared.localhost" } : [$"a@n{session}.localhost"];
                foreach (var message in await node.Ingest.IngestAsync(Encoding.ASCII.GetBytes($"Subject: s{session} m{i}\r\n\r\nbody\r\n"),
                             new SmtpEnvelope("s@example.com", to, "test", null, null, null, false), CancellationToken.None))
                {
                    stored.Add(message);
                    origin[message.Id] = session % 2;
                }
            }
        })));

        var expected = stored.OrderBy(m => m.ReceivedTicks).ToList();
        Assert.Equal(expected.Count, expected.Select(m => m.ReceivedTicks).Distinct().Count()); // no two alike, across nodes
        foreach (var node in seen)
        {
            await Poll.UntilAsync(() => Task.FromResult(node.Count >= expected.Count), TimeSpan.FromSeconds(30), "both nodes announced every message");
            var announced = node.ToList();
            // Each once. A node announces its own commits at once and the other's when its listener reads
            // them, so the two streams interleave as they come; each is in commit order.
            Assert.Equal(expected.Select(m => (m.Id, m.ReceivedTicks, m.Subject)).Order(), announced.Select(m => (m.Id, m.ReceivedTicks, m.Subject)).Order());
            foreach (var from in new[] { 0, 1 })
            {
                var ticks = announced.Where(m => origin[m.Id] == from).Select(m => m.ReceivedTicks).ToList();
                Assert.Equal(ticks.Order(), ticks);
            }
        }

        // The times are the commit order: what one node lists is what the other lists.
        var listed = await first.Messages.ListAsync("shared", 0, 100, null, default);
        Assert.Equal(expected.Where(m => m.Inbox == "shared").Select(m => m.Id).Reverse(), listed.Select(m => m.Id));
        Assert.Equal(listed.Count, (await second.Inboxes.GetAsync("shared", default))!.Messages);
    }

    [Fact]
    public async Task The_bytes_stored_and_every_content_s_copies_stay_right_through_arrivals_deletes_and_retention()
    {
        await using var storage = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database);
        var copies = new List<StoredMessage>();
        for (var i = 0; i < 30; i++)
        {
            var to = i % 3 == 0 ? new[] { "a@one.localhost", "b@two.localhost", "c@three.localhost" } : ["a@one.localhost"];
            copies.AddRange(await storage.Ingest.IngestAsync(Encoding.UTF8.GetBytes($"Subject: m{i} caf\u00e9\r\n\r\n{new string('x', i * 300)}\r\n"),
                new SmtpEnvelope("s@example.com", to, "test", null, null, null, false), CancellationToken.None));
        }

        await AssertCountsAsync();
        // What is counted is never less than what PostgreSQL holds: the text of the parsed fields is counted
        // before PostgreSQL's own compression (here very compressible bodies), the raw message as stored.
        var held = await HeldAsync();
        Assert.InRange(await storage.StoredBytesAsync(), held * 0.9, held * 10.0);
        Assert.True(await storage.Messages.DeleteAsync(copies[0].Id, default));
        Assert.True(await storage.Messages.DeleteAsync(copies[^1].Id, default));
        await AssertCountsAsync();
        await storage.Messages.DeleteAllAsync("two", default);
        Assert.True(await storage.Inboxes.DeleteAsync("three", default));
        await AssertCountsAsync();
        Assert.True(await storage.Retention.ApplyRetentionAsync(new StorageOptions { MaxMessagesPerInbox = 5 }, DateTimeOffset.UtcNow, default) > 0);
        await AssertCountsAsync();
        await storage.Messages.DeleteAllAsync("one", default);
        Assert.Equal(0, await storage.StoredBytesAsync());

        // The running total against the rows' own counts; each content's references against the messages
        // pointing at it, and no message without its content (no foreign key does this: Migrations, step 4).
        async Task AssertCountsAsync()
        {
            Assert.Equal(await RecountAsync(), await storage.StoredBytesAsync());
            Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT 1 FROM contents c WHERE c.id = m.content_id)"));
            Assert.Equal(0, await ScalarAsync("SELECT count(*) FROM contents c WHERE c.refs <> (SELECT count(*) FROM messages m WHERE m.content_id = c.id)"));
        }

        Task<long> RecountAsync() => ScalarAsync("SELECT (SELECT coalesce(sum(bytes), 0) FROM contents) + (SELECT coalesce(sum(bytes), 0) FROM messages)");

        // What the rows take as stored (compressed, or out of line).
        Task<long> HeldAsync() => ScalarAsync(
            "SELECT (SELECT coalesce(sum(pg_column_size(c.*)), 0) FROM contents c) + (SELECT coalesce(sum(pg_column_size(m.*)), 0) FROM messages m)");

        async Task<long> ScalarAsync(string sql)
        {
            await using var command = storage.PostgreSql.DataSource.CreateCommand(sql);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>
    /// A 250 waits for the WAL to be flushed whatever the database's default or the connection string says:
    /// every connection of the store starts with <c>synchronous_commit</c> on, and keeps what else the
    /// connection string's own <c>Options</c> ask. A plain connection to the same database sees the default
    /// it overrides.
    /// </summary>
    [Fact]
    public async Task Connections_commit_synchronously_even_where_the_database_says_otherwise()
    {
        var server = await PostgreSqlServer.SharedAsync();
        var name = await server.CreateDatabaseAsync();
        try
        {
            await using var plain = NpgsqlDataSource.Create(server.ConnectionString(name) + ";Pooling=false"); // each use a new session
            await using (var off = plain.CreateCommand($"ALTER DATABASE \"{name}\" SET synchronous_commit = off"))
                await off.ExecuteNonQueryAsync();
            Assert.Equal(("off", "0"), await SettingsAsync(plain));

            var options = Options.Create(new StorageOptions
            {
                Engine = StorageEngine.PostgreSql,
                PostgreSql = new PostgreSqlOptions { ConnectionString = server.ConnectionString(name) + ";Options=-c statement_timeout=12345 -c synchronous_commit=off" },
            });
            await using var store = new PostgreSqlStore(options, NullLoggerFactory.Instance);
            Assert.Equal(("on", "12345ms"), await SettingsAsync(store.DataSource));
        }
        finally
        {
            await server.DropDatabaseAsync(name);
        }

        static async Task<(string, string)> SettingsAsync(NpgsqlDataSource source)
        {
            await using var show = source.CreateCommand("SELECT current_setting('synchronous_commit'), current_setting('statement_timeout')");
            await using var reader = await show.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            return (reader.GetString(0), reader.GetString(1));
        }
    }

    [Fact]
    public async Task Nodes_starting_at_once_on_a_new_database_apply_the_schema_once()
    {
        var server = await PostgreSqlServer.SharedAsync();
        var name = await server.CreateDatabaseAsync();
        try
        {
            var sources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(server.ConnectionString(name))).ToList();
            var before = await Task.WhenAll(sources.Select(source => Task.Run(() => Migrations.ApplyAsync(source, CancellationToken.None))));
            Assert.Equal([0, Migrations.Latest, Migrations.Latest, Migrations.Latest], before.Order());
            await using (var versions = sources[0].CreateCommand("SELECT array_agg(version) FROM schema_version"))
                Assert.Equal([Migrations.Latest], (int[])(await versions.ExecuteScalarAsync())!);
            foreach (var source in sources)
                await source.DisposeAsync();
        }
        finally
        {
            await server.DropDatabaseAsync(name);
        }
    }

    /// <summary>
    /// Nodes starting together that want the body index gone, then back, neither fail nor wait for each
    /// other's change (a build waits for every statement under way, a wait for a lock included): each
    /// time one of them changes the index and the rest start without waiting.
    /// </summary>
    [Fact]
    public async Task Nodes_starting_at_once_drop_and_make_the_body_index_without_failing_or_waiting_on_each_other()
    {
        var server = await PostgreSqlServer.SharedAsync();
        var name = await server.CreateDatabaseAsync();
        var sources = Enumerable.Range(0, 4).Select(_ => NpgsqlDataSource.Create(server.ConnectionString(name))).ToList();
        try
        {
            await Migrations.ApplyAsync(sources[0], CancellationToken.None);
            await using (var fill = sources[0].CreateCommand(
                "INSERT INTO contents (id, refs, size, raw, raw_compressed, summary, detail, subject_fold, senders_fold, recipients_fold, body_fold, bytes)"
                + " SELECT 'c' || n, 1, 100, '{}', '{}', '{}', '{}', 'S', '{}', '{}', upper(md5(n::text)), 0 FROM generate_series(1, 20000) n"))
                await fill.ExecuteNonQueryAsync();

            foreach (var wanted in new[] { false, true })
            {
                await Task.WhenAll(sources.Select(source => Task.Run(() => Migrations.ApplyAsync(source, CancellationToken.None, wanted))));
                Assert.Equal(wanted ? true : null, await BodyIndexValidAsync(sources[0]));
            }
        }
        finally
        {
            foreach (var source in sources)
                await source.DisposeAsync();
            await server.DropDatabaseAsync(name);
        }
    }

    /// <summary>
    /// More messages than one delete step: a delete of the inbox takes several transactions of at most a step
    /// each (each holds the clock's row, which every node's commits wait for), and the counts come out right.
    /// A trigger made for the test records each deleting statement's transaction and rows.
    /// </summary>
    [Fact]
    public async Task Deleting_an_inbox_larger_than_a_step_goes_a_step_to_a_transaction_and_keeps_every_count_right()
    {
        await using var storage = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database);
        foreach (var inbox in new[] { "huge1", "huge2" })
        {
            var upper = inbox.ToUpperInvariant();
            await using var fill = storage.PostgreSql.DataSource.CreateCommand(
                $$"""
                INSERT INTO contents (id, refs, size, raw, raw_compressed, summary, detail, subject_fold, senders_fold, recipients_fold, body_fold, bytes)
                SELECT '{{inbox}}c' || n, 1, 100, '{}', '{}', '{}', '{}', 'M', ARRAY['S@X.EXAMPLE'], ARRAY['A@{{upper}}.LOCALHOST'], 'BODY', 10
                FROM generate_series(1, 12000) n;
                INSERT INTO messages (id, inbox, received, size, content_id, attachment_ids, bytes)
                SELECT '{{inbox}}m' || n, '{{inbox}}', n, 100, '{{inbox}}c' || n, '{}', 5 FROM generate_series(1, 12000) n;
                INSERT INTO inboxes (id, name, messages, created, last_received) VALUES ('{{inbox}}', '{{inbox}}', 12000, 1, 12000);
                UPDATE clock SET stored_bytes = stored_bytes + 12000 * 15 WHERE id = 1;
                """);
            await fill.ExecuteNonQueryAsync();
            await storage.StoreAsync($"a@{inbox}.localhost", "one more, through the writer");
        }

        await using (var record = storage.PostgreSql.DataSource.CreateCommand(
            """
            CREATE TABLE delete_steps (inbox text, tx bigint, removed bigint);
            CREATE FUNCTION record_delete_step() RETURNS trigger LANGUAGE plpgsql AS
                'BEGIN INSERT INTO delete_steps SELECT inbox, txid_current(), count(*) FROM gone GROUP BY inbox; RETURN NULL; END';
            CREATE TRIGGER record_delete_step AFTER DELETE ON messages REFERENCING OLD TABLE AS gone
                FOR EACH STATEMENT EXECUTE FUNCTION record_delete_step();
            """))
            await record.ExecuteNonQueryAsync();
        try
        {
            Assert.Equal(12001, await storage.Messages.DeleteAllAsync("huge1", default));
            Assert.Equal(0, (await storage.Inboxes.GetAsync("huge1", default))!.Messages);
            Assert.True(await storage.Inboxes.DeleteAsync("huge2", default));
            Assert.Null(await storage.Inboxes.GetAsync("huge2", default));

            foreach (var inbox in new[] { "huge1", "huge2" })
            {
                await using var steps = storage.PostgreSql.DataSource.CreateCommand(
                    "SELECT count(DISTINCT tx), max(per_tx), sum(per_tx) FROM (SELECT tx, sum(removed) AS per_tx FROM delete_steps WHERE inbox = @inbox GROUP BY tx) t");
                steps.Parameters.AddWithValue("inbox", inbox);
                await using var reader = await steps.ExecuteReaderAsync();
                Assert.True(await reader.ReadAsync());
                Assert.Equal((3L, PostgreSqlStore.DeleteStep, 12001m), (reader.GetInt64(0), (int)reader.GetDecimal(1), reader.GetDecimal(2)));
            }
        }
        finally
        {
            await using var drop = storage.PostgreSql.DataSource.CreateCommand(
                "DROP TRIGGER record_delete_step ON messages; DROP FUNCTION record_delete_step(); DROP TABLE delete_steps");
            await drop.ExecuteNonQueryAsync();
        }

        await using var left = storage.PostgreSql.DataSource.CreateCommand("SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM contents)");
        Assert.Equal(0L, await left.ExecuteScalarAsync());
        Assert.Equal(0, await storage.StoredBytesAsync());
    }

    [Fact]
    public async Task Retention_by_age_goes_by_the_database_s_clock_not_a_node_s_that_runs_ahead()
    {
        await using var node = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database);
        var fresh = await node.StoreAsync("a@aged.localhost", "fresh");
        var limits = new StorageOptions { MaxAge = TimeSpan.FromHours(1) };

        // The node's clock two hours ahead of the database's: the message is a second old, not two hours.
        Assert.Equal(0, await node.Retention.ApplyRetentionAsync(limits, DateTimeOffset.UtcNow.AddHours(2), default));
        Assert.NotNull(await node.Messages.GetAsync(fresh.Id, default));

        // Once it is older than MaxAge by the database's clock, it goes.
        await using (var age = node.PostgreSql.DataSource.CreateCommand("UPDATE messages SET received = received - @two_hours"))
        {
            age.Parameters.AddWithValue("two_hours", TimeSpan.FromHours(2).Ticks);
            await age.ExecuteNonQueryAsync();
        }

        Assert.Equal(1, await node.Retention.ApplyRetentionAsync(limits, DateTimeOffset.UtcNow, default));
        Assert.Null(await node.Messages.GetAsync(fresh.Id, default));
    }

    [Fact]
    public async Task A_node_keeps_no_record_of_its_own_messages_once_announced_even_those_deleted_before_its_listener_read_them()
    {
        await using var node = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database);
        var seen = new ConcurrentQueue<StoredMessage>();
        using var subscription = node.Feed.Subscribe(null, seen.Enqueue);

        // A test suite's usual round: send, read, delete, at once (before the listener's pass once a second),
        // with nothing left afterwards for the listener to read.
        var last = default(StoredMessage);
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 20; i++)
                last = await node.StoreAsync($"a@gone{round}.localhost", $"gone {round} {i}");
            Assert.True(await node.Inboxes.DeleteAsync($"gone{round}", default));
        }

        await Poll.UntilAsync(() => Task.FromResult(node.PostgreSqlListener.OwnCount == 0 && node.PostgreSqlListener.Cursor >= last!.ReceivedTicks),
            TimeSpan.FromSeconds(10), "the listener's cursor passed every message and nothing of them is kept");
        Assert.Equal(60, seen.Count); // each announced once, by the writer
        Assert.Equal(60, seen.Select(m => m.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_listener_reads_when_another_node_commits_and_not_when_its_own_node_does()
    {
        // No pass on a timer in this test: whatever the listener reads, a notification made it read.
        await using var listening = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database, listenerFallback: TimeSpan.FromHours(1));
        await using var other = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database, emptyFirst: false);
        var seen = new ConcurrentQueue<StoredMessage>();
        using var subscription = listening.Feed.Subscribe("wake", seen.Enqueue);
        var listener = listening.PostgreSqlListener;
        await Poll.UntilAsync(() => Task.FromResult(listener.Passes > 0), TimeSpan.FromSeconds(10), "the listener made its first pass");

        // Each of its own commits notifies; none of them makes it read (each had been a query of the database).
        var passes = listener.Passes;
        for (var i = 0; i < 30; i++)
            await listening.StoreAsync("a@wake.localhost", $"own {i}");
        Assert.Equal(30, seen.Count); // its writer announced them
        Assert.Equal(passes, listener.Passes);

        // Another node's commit does, at once: nothing else would read it within the hour.
        // (The listener announces what a pass read before it counts the pass: wait for both.)
        var theirs = await other.StoreAsync("a@wake.localhost", "theirs");
        await Poll.UntilAsync(() => Task.FromResult(seen.Count == 31 && listener.Passes > passes), TimeSpan.FromSeconds(10),
            "the other node's message was announced by a pass of the listener");
        Assert.Equal(theirs.Id, seen.Last().Id);
    }

    /// <summary>
    /// A node alone notifies nobody (its own listener would only pass over it): a plain <c>LISTEN</c> on the
    /// channel, which is no node, hears nothing. While another node's listener is connected, every commit
    /// notifies; once that node is gone, the commits stop notifying again. (The writer looks on every commit
    /// here; by default once a second.)
    /// </summary>
    [Fact]
    public async Task A_node_notifies_its_commits_only_while_another_node_listens()
    {
        await using var watcher = new NpgsqlConnection(database.ConnectionString);
        await watcher.OpenAsync();
        var heard = new ConcurrentQueue<string>();
        watcher.Notification += (_, e) => heard.Enqueue(e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {PostgreSqlStore.ArrivalChannel}", watcher))
            await listen.ExecuteNonQueryAsync();

        await using var node = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database, lookForOthersEvery: TimeSpan.Zero);
        await Poll.UntilAsync(() => Task.FromResult(node.PostgreSqlListener.Passes > 0), TimeSpan.FromSeconds(10), "the node's listener is connected");
        for (var i = 0; i < 5; i++)
            await node.StoreAsync("a@alone.localhost", $"alone {i}");
        Assert.Equal(0, node.PostgreSqlWriter.Notified);
        Assert.False(await watcher.WaitAsync(300), "a node alone notified");

        await using (var other = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database, emptyFirst: false))
        {
            await Poll.UntilAsync(() => Task.FromResult(other.PostgreSqlListener.Passes > 0), TimeSpan.FromSeconds(10), "the other node's listener is connected");
            for (var i = 0; i < 3; i++)
                await node.StoreAsync("a@alone.localhost", $"with another {i}");
            Assert.Equal(3, node.PostgreSqlWriter.Notified);
            await Poll.UntilAsync(async () => heard.Count >= 3 || (await watcher.WaitAsync(100) && heard.Count >= 3), TimeSpan.FromSeconds(10), "the watcher heard three notifications");
            Assert.Equal(Enumerable.Repeat(node.PostgreSqlListener.NodeId, 3), heard);
        }

        // The other node stopped: its listener's connection is gone once PostgreSQL says so.
        await Poll.UntilAsync(async () => await ListenersAsync() == 1, TimeSpan.FromSeconds(10), "the other node's listener left");
        await node.StoreAsync("a@alone.localhost", "alone again");
        Assert.Equal(3, node.PostgreSqlWriter.Notified);
        Assert.False(await watcher.WaitAsync(300), "a node alone again notified");
        Assert.Equal(3, heard.Count);

        async Task<long> ListenersAsync()
        {
            await using var count = node.PostgreSql.DataSource.CreateCommand(
                $"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE '{PostgreSqlStore.ListenerNamePrefix}%'");
            return (long)(await count.ExecuteScalarAsync())!;
        }
    }

    [Fact]
    public async Task A_listener_that_lost_its_connection_catches_up_with_what_was_committed_meanwhile()
    {
        await using var listening = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database);
        await using var writing = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database, emptyFirst: false);
        var seen = new ConcurrentQueue<StoredMessage>();
        using var subscription = listening.Feed.Subscribe("lost", seen.Enqueue);
        await writing.StoreAsync("a@lost.localhost", "before");
        await Poll.UntilAsync(() => Task.FromResult(seen.Count == 1), TimeSpan.FromSeconds(10), "the first message was announced");

        // Every connection to the database is cut (as by a restart or a network fault), then mail comes.
        await using (var cut = await NpgsqlDataSource.Create(database.ConnectionString).OpenConnectionAsync())
        {
            await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", cut);
            await terminate.ExecuteNonQueryAsync();
        }

        var during = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            while (true)
            {
                try
                {
                    during.Add((await writing.StoreAsync("a@lost.localhost", $"meanwhile {i}")).Id);
                    break;
                }
                catch (StorageUnavailableException)
                {
                    // a pooled connection that was cut fails once; the next use connects again
                }
            }
        }

        await Poll.UntilAsync(() => Task.FromResult(seen.Count == 6), TimeSpan.FromSeconds(20), "the listener connected again and announced what came meanwhile");
        Assert.Equal(during, seen.Skip(1).Select(m => m.Id));
    }
}
