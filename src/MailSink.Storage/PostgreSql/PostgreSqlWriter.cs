using System.Threading.Channels;
using MailSink.Storage.Ingest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MailSink.Storage.PostgreSql;

/// <summary>
/// Group commit: a loop takes whatever is queued (up to <see cref="StorageOptions.MaxBatchMessages"/>),
/// writes it in one transaction sent as one batch (one round trip), and completes each caller's task only
/// after PostgreSQL confirmed the commit with <c>synchronous_commit = on</c>: a <c>250</c> is a message that
/// survives a power loss. While one batch commits, the next gathers. The writer announces this node's own
/// messages on its <see cref="ArrivalFeed"/> right after the commit; other nodes hear of them through their
/// <see cref="PostgreSqlListener"/>, told by the commit's notification.
/// </summary>
internal sealed class PostgreSqlWriter : IMessageWriter
{
    private const long MaxBatchBytes = 64L * 1024 * 1024;

    private readonly Channel<Queued> _queue = Channel.CreateUnbounded<Queued>(new UnboundedChannelOptions { SingleReader = true });
    private readonly PostgreSqlStore _store;
    private readonly PostgreSqlListener _listener;
    private readonly ArrivalFeed _feed;
    private readonly ILogger<PostgreSqlWriter> _logger;
    private readonly int _maxBatch;
    private Task? _loop;
    private int _failedBatches;

    public PostgreSqlWriter(PostgreSqlStore store, PostgreSqlListener listener, ArrivalFeed feed, IOptions<StorageOptions> options, ILogger<PostgreSqlWriter> logger)
    {
        _store = store;
        _listener = listener;
        _feed = feed;
        _logger = logger;
        _maxBatch = options.Value.MaxBatchMessages;
    }

    public int FailedBatches => Volatile.Read(ref _failedBatches);

    internal static readonly TimeSpan DefaultLookForOthersEvery = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How often a commit looks whether another node's listener is connected (and notifies if so); the
    /// commits in between notify as the last look found. Looking costs about what notifying does (PostgreSQL
    /// copies every connection's status to answer it), so not on every commit. A node that starts listening
    /// is told of this node's commits within this time; until then its own pass once a second finds them.
    /// </summary>
    internal TimeSpan LookForOthersEvery { get; init; } = DefaultLookForOthersEvery;

    /// <summary>What the last look found, and when it looked (<see cref="Environment.TickCount64"/>); null until the first commit.</summary>
    private (bool OthersListen, long At)? _lastLook;

    /// <summary>How many commits have notified other nodes.</summary>
    internal int Notified => Volatile.Read(ref _notified);
    private int _notified;

    internal void Start() => _loop ??= Task.Run(RunAsync);

    /// <summary>
    /// A write, the insert of its content (and the bytes it stores), made on the caller's thread (its JSON
    /// and folded text take time the loop has not), and the caller's task.
    /// <para>
    /// The task's continuations run inline: the commit's answer arrives on a socket thread (Npgsql's read
    /// completes where the socket event was handled), and the caller resumes right there, writes its
    /// <c>250</c> and goes back to waiting for its client. Resuming on the thread pool instead woke a worker
    /// for each message, which then spun looking for more work; inline, one node took 0.80-0.88× the CPU a
    /// message and went 1.07-1.17× the rate over 10 kept sessions (docs/postgresql.md). Nothing holds a lock
    /// here, and a caller's next write only queues, so the loop cannot be re-entered.
    /// </para>
    /// </summary>
    private readonly record struct Queued(PendingWrite Write, NpgsqlBatchCommand Content, long ContentBytes, TaskCompletionSource Committed);

    /// <summary>Queues the write; <paramref name="alone"/> changes nothing here (a commit always waits for PostgreSQL).</summary>
    public Task WriteAsync(PendingWrite write, bool alone)
    {
        var (content, bytes) = ContentRow.Insert(write);
        var queued = new Queued(write, content, bytes, new TaskCompletionSource());
        if (!_queue.Writer.TryWrite(queued))
            throw new StorageUnavailableException("Storage is shutting down.");
        return queued.Committed.Task;
    }

    /// <summary>Stops taking writes, commits what is queued, and waits for the last commit.</summary>
    internal Task StopAsync()
    {
        _queue.Writer.TryComplete();
        return _loop ?? Task.CompletedTask;
    }

    private async Task RunAsync()
    {
        var batch = new List<Queued>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            long bytes = 0, messages = 0;
            while (messages < _maxBatch && bytes < MaxBatchBytes && _queue.Reader.TryRead(out var queued))
            {
                batch.Add(queued);
                bytes += queued.Write.Raw.StoredBytes;
                messages += queued.Write.Messages.Count;
            }

            await CommitBatchAsync(batch);
        }
    }

    private async Task CommitBatchAsync(List<Queued> batch)
    {
        var messages = batch.SelectMany(q => q.Write.Messages).ToList();
        _listener.Expect(messages.Select(m => m.Id));
        try
        {
            var now = Environment.TickCount64;
            bool? notify = _lastLook is { } lastLook && now - lastLook.At < (long)LookForOthersEvery.TotalMilliseconds ? lastLook.OthersListen : null;
            var (last, othersListen) = await _store.UseAsync(
                connection => CommitAsync(connection, batch, messages, _listener.NodeId, notify), CancellationToken.None);
            if (notify is null)
                _lastLook = (othersListen, now);
            if (othersListen)
                Interlocked.Increment(ref _notified);
            var ticks = last - messages.Count + 1;
            foreach (var message in messages)
                message.ReceivedTicks = ticks++;
            _listener.Committed(messages);
        }
        catch (Exception ex)
        {
            // Not committed, as far as the writer can tell. A commit whose answer was lost may have happened:
            // what the listener has already read of it is announced here, the rest by the listener.
            var committedAfterAll = _listener.Forget(messages.Select(m => m.Id));
            Interlocked.Increment(ref _failedBatches);
            Log.CommitFailed(_logger, batch.Count, ex);
            if (committedAfterAll.Count > 0)
                _feed.Publish(committedAfterAll);
            foreach (var queued in batch)
                queued.Committed.TrySetException(new StorageUnavailableException("The message could not be written to storage.", ex));
            return;
        }

        // Announced first: the callers resume inline (Queued), each sending its 250 before the next is told.
        _feed.Publish(messages);
        foreach (var queued in batch)
            queued.Committed.TrySetResult();
    }

    /// <summary>
    /// One transaction, one round trip: contents first (the heavy part, before any lock), then the clock's
    /// row, which gives the batch its receive times, counts the bytes stored, and holds every other commit
    /// (of any node) until this one is confirmed, so that times are given out in commit order; then the
    /// messages, the inbox counters (in id order) and the notification: made when <paramref name="notify"/>
    /// is true, not when false, and when null only if another node's listener is connected (a look).
    /// Returns the last receive time given, and whether other nodes were notified. <paramref name="messages"/>
    /// are the batch's messages, in its order.
    /// </summary>
    private static async Task<(long Last, bool Notified)> CommitAsync(
        NpgsqlConnection connection, List<Queued> batch, List<StoredMessage> messages, string nodeId, bool? notify)
    {
        var contentOf = new List<string>(messages.Count);
        var bytes = 0L;
        foreach (var (write, _, contentBytes, _) in batch)
        {
            contentOf.AddRange(write.Messages.Select(_ => write.RawId));
            bytes += contentBytes;
        }

        var messageBytes = new long[messages.Count];
        for (var i = 0; i < messages.Count; i++)
            bytes += messageBytes[i] = ContentRow.MessageBytes(messages[i], contentOf[i]);

        // synchronous_commit is on for every connection (PostgreSqlStore): COMMIT returns once the WAL is flushed.
        await using var commands = new NpgsqlBatch(connection);
        Add(commands, "BEGIN");
        foreach (var queued in batch)
            commands.BatchCommands.Add(queued.Content);
        Add(commands, $"UPDATE clock SET ticks = GREATEST(ticks + $1, {PostgreSqlStore.NowTicks} + $1 - 1), stored_bytes = stored_bytes + $2 WHERE id = 1 RETURNING ticks",
            (long)messages.Count, bytes);
        // Every message of the batch in one statement: one executor start a batch, not one a message. Each
        // copy's attachment ids are its slice of one flat array (a copy without attachments, an empty slice).
        var ids = new string[messages.Count];
        var inboxes = new string[messages.Count];
        var backs = new long[messages.Count];
        var sizes = new long[messages.Count];
        var firsts = new int[messages.Count];
        var counts = new int[messages.Count];
        var attachments = new List<string>();
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            (ids[i], inboxes[i], backs[i], sizes[i]) = (message.Id, message.Inbox, messages.Count - 1 - i, message.Size);
            (firsts[i], counts[i]) = (attachments.Count + 1, message.Attachments.Count);
            attachments.AddRange(message.Attachments.Select(a => a.Id));
        }

        Add(commands,
            "INSERT INTO messages (id, inbox, received, size, content_id, attachment_ids, bytes)"
            + " SELECT m.id, m.inbox, c.ticks - m.back, m.size, m.content, ($9::text[])[m.first:m.first + m.count - 1], m.bytes"
            + " FROM clock c CROSS JOIN unnest($1, $2, $3, $4, $5, $6, $7, $8) AS m(id, inbox, back, size, content, first, count, bytes)"
            + " WHERE c.id = 1",
            ids, inboxes, backs, sizes, contentOf.ToArray(), firsts, counts, messageBytes, attachments.ToArray());

        foreach (var inbox in messages.Select((m, i) => (m.Inbox, Back: messages.Count - 1 - i)).GroupBy(m => m.Inbox, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Add(commands,
                "INSERT INTO inboxes (id, name, messages, created, last_received) SELECT $1, $1, $2, ticks - $3, ticks - $3 FROM clock WHERE id = 1"
                + " ON CONFLICT (id) DO UPDATE SET messages = inboxes.messages + excluded.messages, last_received = excluded.last_received",
                inbox.Key, (long)inbox.Count(), (long)inbox.Min(m => m.Back));
        }

        if (notify is null)
            Add(commands, PostgreSqlStore.NotifyOtherNodes, nodeId, PostgreSqlStore.ListenerName(nodeId));
        else if (notify.Value)
            Add(commands, $"NOTIFY {PostgreSqlStore.ArrivalChannel}, '{nodeId}'");
        Add(commands, "COMMIT");

        long? last = null;
        var notified = notify ?? false;
        try
        {
            await using var reader = await commands.ExecuteReaderAsync();
            var answers = 0; // statements that answer with rows: the clock's update, then the look, if any
            do
            {
                if (reader.FieldCount == 0)
                    continue;
                answers++;
                if (answers == 1 && await reader.ReadAsync())
                    last = reader.GetInt64(0);
                else if (answers == 2)
                    notified = await reader.ReadAsync(); // a row: another node listens, and was notified
            }
            while (await reader.NextResultAsync()); // a later statement's failure (COMMIT's too) surfaces here
        }
        catch
        {
            await RollBackAsync(connection);
            throw;
        }

        return (last ?? throw new InvalidOperationException("The clock gave no receive time."), notified);
    }

    /// <summary>Leaves the connection out of the failed transaction, when it is still there to be told.</summary>
    private static async Task RollBackAsync(NpgsqlConnection connection)
    {
        if (connection.FullState != System.Data.ConnectionState.Open)
            return;
        try
        {
            await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
            await rollback.ExecuteNonQueryAsync();
        }
        catch (Exception ex) when (PostgreSqlStore.IsDatabaseFault(ex))
        {
            // the connection is broken: the pool drops it
        }
    }

    /// <summary>
    /// A statement with positional parameters (<c>$1</c>, <c>$2</c>, ...), each a value or an
    /// <see cref="NpgsqlParameter"/> that names its type: Npgsql sends it as it is, where named ones would
    /// have it parse and rewrite the statement's text on every commit.
    /// </summary>
    internal static NpgsqlBatchCommand Statement(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
            command.Parameters.Add(value as NpgsqlParameter ?? new NpgsqlParameter { Value = value });
        return command;
    }

    private static void Add(NpgsqlBatch batch, string sql, params object[] values) => batch.BatchCommands.Add(Statement(sql, values));
}
