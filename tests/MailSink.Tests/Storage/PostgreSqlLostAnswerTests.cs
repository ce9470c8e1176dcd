using System.Collections.Concurrent;
using MailSink.Storage;
using MailSink.Tests.Support;
using Npgsql;

namespace MailSink.Tests.Storage;

/// <summary>
/// A commit whose answer is lost: PostgreSQL commits the batch and the connection is cut before its answer
/// reaches the node (a <see cref="TcpRelay"/> holds the answer back, then cuts). The sender is told the
/// message failed (a <c>451</c> in SMTP, which a client retries), and yet it is in the store, so the node
/// announces it once, as its own (webhooks included), whichever of the writer and the listener learns of it
/// first; then it keeps no record of it.
/// </summary>
public sealed class PostgreSqlLostAnswerTests(PostgreSqlDatabase database) : IClassFixture<PostgreSqlDatabase>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    /// <summary>Every answer held, the listener's too: it reads the message only after the writer has given up on it.</summary>
    [Fact]
    public Task A_lost_commit_read_by_the_listener_afterwards_is_announced_once_as_the_node_s_own() =>
        LoseTheAnswerAsync("lostlater", everyConnection: true);

    /// <summary>Only the writer's answer held: the listener reads the message while the writer still waits, and the writer's failure hands it back.</summary>
    [Fact]
    public Task A_lost_commit_the_listener_read_while_the_writer_waited_is_announced_once_as_the_node_s_own() =>
        LoseTheAnswerAsync("lostmeanwhile", everyConnection: false);

    private async Task LoseTheAnswerAsync(string inbox, bool everyConnection)
    {
        await using var relay = TcpRelay.Start(new NpgsqlConnectionStringBuilder(database.ConnectionString).Port);
        var throughRelay = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Host = "127.0.0.1", Port = relay.Port }.ConnectionString;
        await using var node = await StorageHarness.StartAsync(StorageEngine.PostgreSql, database, connectionString: throughRelay);
        var announced = new ConcurrentQueue<StoredMessage>();
        var announcedAsOwn = new ConcurrentQueue<StoredMessage>();
        using var all = node.Feed.Subscribe(inbox, announced.Enqueue);
        using var own = node.Feed.SubscribeLocal(announcedAsOwn.Enqueue);

        var marker = $"marker-{Guid.NewGuid():N}";
        relay.HoldRepliesOnceClientSends(marker, everyConnection);
        var storing = node.StoreAsync($"a@{inbox}.localhost", marker);
        await relay.Holding.WaitAsync(Deadline);

        // PostgreSQL committed it: seen from outside the relay.
        var (id, received) = await Poll.ForAsync(() => StoredInAsync(inbox), Deadline, "PostgreSQL committed the message");
        if (!everyConnection)
            await Poll.UntilAsync(() => node.PostgreSqlListener.Cursor >= received, Deadline, "the listener read the message while the writer waited");

        relay.CutAll();
        await Assert.ThrowsAsync<StorageUnavailableException>(() => storing);

        await Poll.UntilAsync(() => !announced.IsEmpty, Deadline, "the message was announced");
        await Poll.UntilAsync(() => node.PostgreSqlListener.OwnCount == 0 && node.PostgreSqlListener.Cursor >= received, Deadline,
            "the listener passed the message and keeps no record of it");
        Assert.Equal(id, Assert.Single(announced).Id);
        Assert.Equal(id, Assert.Single(announcedAsOwn).Id);

        // The node goes on: the next message (after the pool drops what was cut) is stored and announced, once.
        var next = await StoreOnceThePoolRecoversAsync(node, inbox);
        await Poll.UntilAsync(() => announced.Count == 2, Deadline, "the next message was announced");
        Assert.Equal([id, next.Id], announced.Select(m => m.Id));
        Assert.Equal(2, announcedAsOwn.Count);
    }

    /// <summary>The id and receive time of the one message in <paramref name="inbox"/>, read directly (not through the relay); null before it is there.</summary>
    private async Task<(string Id, long Received)?> StoredInAsync(string inbox)
    {
        await using var source = NpgsqlDataSource.Create(database.ConnectionString);
        await using var command = source.CreateCommand("SELECT id, received FROM messages WHERE inbox = @inbox");
        command.Parameters.AddWithValue("inbox", inbox);
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? (reader.GetString(0), reader.GetInt64(1)) : null;
    }

    /// <summary>Each idle pooled connection that was cut fails once when next used, and is dropped; then one connects again.</summary>
    private static async Task<StoredMessage> StoreOnceThePoolRecoversAsync(StorageHarness node, string inbox)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            try
            {
                return await node.StoreAsync($"a@{inbox}.localhost", "after the cut");
            }
            catch (StorageUnavailableException) when (DateTime.UtcNow < deadline)
            {
                // the next pooled connection, or a new one
            }
        }
    }
}
