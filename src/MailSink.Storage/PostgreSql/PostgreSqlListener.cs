using Microsoft.Extensions.Logging;
using Npgsql;

namespace MailSink.Storage.PostgreSql;

/// <summary>
/// Announces every other node's commits on this node's <see cref="ArrivalFeed"/>, each message once, in
/// receive-time order. A dedicated connection LISTENs; on each notification from another node, on every
/// (re)connection and every <see cref="Fallback"/> besides, it reads the messages received after its
/// cursor, a page at a time, publishes them and moves the cursor on. That is sound because receive times
/// are given out in commit order (<see cref="PostgreSqlWriter"/>): once a message is visible, every message
/// with an earlier time that will ever be visible already is. The cursor starts at the clock's time when the
/// node starts; after a lost connection the listener connects again by itself (with a growing pause) and
/// catches up from it.
/// <para>
/// This node's own commits are announced by its writer, at once and with everything ingest parsed: the
/// writer tells the listener their ids before it commits (<see cref="Expect"/>) and their times after it
/// (<see cref="Committed"/>), and the listener passes over those when its cursor reaches them. Its own
/// notifications do not wake it (each carries the node's id; a wait they end goes on until another node's
/// or the fallback's time): a node alone reads its own messages back only in the pass once a second, not on
/// every commit, which had been most of PostgreSQL's work a message (docs/postgresql.md, "Arrivals"). A node
/// alone makes none at all: the listener names its connection (<see cref="PostgreSqlStore.ListenerName"/>),
/// and commits notify only while another node's is connected.
/// </para>
/// <para>
/// A commit whose answer was lost is still announced once, and as this node's (webhooks included): if the
/// listener read the message while the writer waited, the writer's failure hands it back for publishing
/// (<see cref="Forget"/>); if the listener reads it later, it publishes it then. An id the listener never
/// reads (the message deleted first) is dropped once the cursor has passed its time, so the bookkeeping
/// stays as small as the commits in flight.
/// </para>
/// </summary>
internal sealed class PostgreSqlListener : HostedLoop
{
    private const int Page = 500;
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(5);

    private readonly PostgreSqlStore _store;
    private readonly ArrivalFeed _feed;
    private readonly ILogger<PostgreSqlListener> _logger;
    private readonly TimeProvider _time;
    /// <summary>Failed commits' ids are kept this long in case the commit happened after all; then dropped.</summary>
    internal static readonly TimeSpan KeepFailed = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, Own> _own = new(StringComparer.Ordinal);
    private long _cursor;
    private volatile bool _notified;

    public PostgreSqlListener(PostgreSqlStore store, ArrivalFeed feed, ILogger<PostgreSqlListener> logger, TimeProvider time)
    {
        _store = store;
        _feed = feed;
        _logger = logger;
        _time = time;
    }

    /// <summary>What this node's notifications carry, so that the listener can tell them from other nodes'.</summary>
    internal string NodeId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Ids of messages this node's writer is committing and announces itself: the listener passes over them.</summary>
    internal void Expect(IEnumerable<string> ids)
    {
        lock (_own)
        {
            foreach (var id in ids)
                _own[id] = new Own();
        }
    }

    /// <summary>The writer's commit succeeded and it announces these itself, with the times they were given.</summary>
    internal void Committed(IEnumerable<StoredMessage> messages)
    {
        lock (_own)
        {
            foreach (var message in messages)
            {
                if (!_own.TryGetValue(message.Id, out var own))
                    continue;
                if (own.Seen is not null)
                    _own.Remove(message.Id); // the listener has passed it already
                else
                    own.Ticks = message.ReceivedTicks;
            }
        }
    }

    /// <summary>
    /// The writer's commit failed, or its answer was lost. Returns what the listener has read of those ids
    /// meanwhile (committed after all: the caller announces them); the rest it announces itself if they come.
    /// </summary>
    internal IReadOnlyList<StoredMessage> Forget(IEnumerable<string> ids)
    {
        var committed = new List<StoredMessage>();
        lock (_own)
        {
            foreach (var id in ids)
            {
                if (!_own.TryGetValue(id, out var own))
                    continue;
                if (own.Seen is { } seen)
                {
                    committed.Add(seen);
                    _own.Remove(id);
                }
                else
                {
                    own.FailedAt = _time.GetTimestamp();
                }
            }
        }

        return committed;
    }

    /// <summary>Ids of this node's commits the listener keeps: those in flight, and those its cursor has yet to pass.</summary>
    internal int OwnCount
    {
        get
        {
            lock (_own)
                return _own.Count;
        }
    }

    /// <summary>One of this node's own messages: in flight (no time yet), committed (its time), or failed as far as the writer knows.</summary>
    private sealed class Own
    {
        public long Ticks;
        public long? FailedAt;
        public StoredMessage? Seen;
    }

    /// <summary>
    /// How far the listener has read: the receive time of the last message it read, or, once it has caught
    /// up, the last time the clock had given out (the clock's time when the node started, at first).
    /// </summary>
    internal long Cursor => Interlocked.Read(ref _cursor);

    /// <summary>How many times the listener lost its connection and made a new one.</summary>
    internal int Reconnects { get; private set; }

    internal static readonly TimeSpan DefaultFallback = TimeSpan.FromSeconds(1);

    /// <summary>How long the listener waits, when no other node says it committed, before it reads anyway.</summary>
    internal TimeSpan Fallback { get; init; } = DefaultFallback;

    /// <summary>How many times the listener has read what arrived after its cursor.</summary>
    internal int Passes => Volatile.Read(ref _passes);

    private int _passes;

    /// <summary>Where announcing starts: what the clock said when the store opened. Before the loop starts.</summary>
    internal void StartFrom(long ticks) => Interlocked.Exchange(ref _cursor, ticks);

    protected override async Task RunAsync(CancellationToken stoppingToken)
    {
        var pause = TimeSpan.FromMilliseconds(100);
        var failed = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _store.ListenSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (e.Payload != NodeId)
                        _notified = true;
                };
                // Named first, so that other nodes' commits see a listener here and notify (PostgreSqlStore.NotifyOtherNodes);
                // a commit made before that is read by the pass right below.
                await using (var listen = new NpgsqlCommand($"SET application_name = '{PostgreSqlStore.ListenerName(NodeId)}'; LISTEN {PostgreSqlStore.ArrivalChannel}", connection))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                if (failed)
                {
                    Reconnects++;
                    PostgreSqlLog.ListenerResumed(_logger, _store.Where, Cursor);
                }

                failed = false;
                pause = TimeSpan.FromMilliseconds(100);
                while (true)
                {
                    _notified = false;
                    await CatchUpAsync(connection, stoppingToken);
                    Interlocked.Increment(ref _passes);
                    // A notification that came while catching up may be for a commit it did not see: look again.
                    // Otherwise wait for one; this node's own end a wait, and the wait goes on.
                    var since = _time.GetTimestamp();
                    while (!_notified && Fallback - _time.GetElapsedTime(since) is var left && left > TimeSpan.Zero)
                        await connection.WaitAsync(WholeMilliseconds(left), stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (PostgreSqlStore.IsDatabaseFault(ex))
            {
                failed = true;
                PostgreSqlLog.ListenerFailed(_logger, _store.Where, pause, ex);
                try
                {
                    await Task.Delay(pause, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, MaxPause.Ticks));
            }
        }
    }

    /// <summary>Npgsql waits whole milliseconds, and for ever when given 0: never less than 1.</summary>
    private static int WholeMilliseconds(TimeSpan wait) => (int)Math.Max(1, Math.Ceiling(wait.TotalMilliseconds));

    /// <summary>Publishes every message received after the cursor, oldest first, a page at a time.</summary>
    private async Task CatchUpAsync(NpgsqlConnection connection, CancellationToken stoppingToken)
    {
        while (true)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(ReadTimeout); // a connection that went silent fails here, not never

            // The last time given out and committed, read before the messages: every message with a time up
            // to it is visible to the read below (or deleted), so once that read is short the cursor can go
            // there even if no message was left to read (all deleted), and this node's ids up to it be dropped.
            var committed = await PostgreSqlStore.ClockTicksAsync(connection, timeout.Token);
            await using var command = new NpgsqlCommand(
                $"SELECT {PostgreSqlStore.ListedColumns} FROM messages m WHERE m.received > @cursor ORDER BY m.received LIMIT {Page}",
                connection);
            command.Parameters.AddWithValue("cursor", Cursor);
            var arrived = await PostgreSqlStore.ReadListedAsync(command, timeout.Token);
            var (others, ownAfterFailure) = Sort(arrived);
            if (others.Count > 0)
                _feed.Publish(others, local: false);
            if (ownAfterFailure.Count > 0)
                _feed.Publish(ownAfterFailure); // this node's after all: announced as its own
            var caughtUp = arrived.Count < Page;
            var cursor = arrived.Count > 0 ? arrived[^1].ReceivedTicks : Cursor;
            Interlocked.Exchange(ref _cursor, caughtUp ? Math.Max(cursor, committed) : cursor);
            Prune(caughtUp);
            if (caughtUp)
                return;
        }
    }

    /// <summary>Other nodes' messages, and this node's whose commit the writer took for failed; this node's others are passed over.</summary>
    internal (List<StoredMessage> Others, List<StoredMessage> OwnAfterFailure) Sort(IReadOnlyList<StoredMessage> arrived)
    {
        var others = new List<StoredMessage>();
        var ownAfterFailure = new List<StoredMessage>();
        lock (_own)
        {
            foreach (var message in arrived)
            {
                if (!_own.TryGetValue(message.Id, out var own))
                {
                    others.Add(message);
                }
                else if (own.FailedAt is not null)
                {
                    _own.Remove(message.Id);
                    ownAfterFailure.Add(message);
                }
                else if (own.Ticks != 0)
                {
                    _own.Remove(message.Id); // committed, and announced by the writer
                }
                else
                {
                    own.Seen = message; // the writer has not heard back yet: it announces it, or hands it back
                }
            }
        }

        return (others, ownAfterFailure);
    }

    /// <summary>
    /// Drops ids the listener will never read: committed before the cursor (deleted before it came), and,
    /// once the listener has caught up, failed long ago (while it catches up, such a message may still come).
    /// </summary>
    internal void Prune(bool caughtUp = true)
    {
        var cursor = Cursor;
        lock (_own)
        {
            foreach (var (id, own) in _own)
            {
                if ((own.Ticks != 0 && own.Seen is null && own.Ticks <= cursor)
                    || (caughtUp && own.FailedAt is { } failed && _time.GetElapsedTime(failed) > KeepFailed))
                    _own.Remove(id);
            }
        }
    }
}
