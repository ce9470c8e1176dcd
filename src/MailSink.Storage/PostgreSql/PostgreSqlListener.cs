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
/// writer tells the listener their ids before it commits (<see cref="Expect"/>), and the listener passes
/// over those when its cursor reaches them. A node alone then reads nothing back, and its own notifications
/// do not wake it (each carries the node's id): on one node that was a fifth of PostgreSQL's CPU a message.
/// </para>
/// </summary>
internal sealed class PostgreSqlListener : HostedLoop
{
    internal static readonly TimeSpan Fallback = TimeSpan.FromSeconds(1);
    private const int Page = 500;
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(5);

    private readonly PostgreSqlStore _store;
    private readonly ArrivalFeed _feed;
    private readonly ILogger<PostgreSqlListener> _logger;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _own = new(StringComparer.Ordinal);
    private long _cursor;
    private volatile bool _notified;

    public PostgreSqlListener(PostgreSqlStore store, ArrivalFeed feed, ILogger<PostgreSqlListener> logger)
    {
        _store = store;
        _feed = feed;
        _logger = logger;
    }

    /// <summary>What this node's notifications carry, so that the listener can tell them from other nodes'.</summary>
    internal string NodeId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Ids of messages this node's writer is committing and announces itself: the listener passes over them.</summary>
    internal void Expect(IEnumerable<string> ids)
    {
        foreach (var id in ids)
            _own[id] = 0;
    }

    /// <summary>Ids <see cref="Expect"/>ed whose commit failed: they will not come.</summary>
    internal void Forget(IEnumerable<string> ids)
    {
        foreach (var id in ids)
            _own.TryRemove(id, out _);
    }

    /// <summary>The receive time of the last message published (or of the clock when the node started).</summary>
    internal long Cursor => Interlocked.Read(ref _cursor);

    /// <summary>How many times the listener lost its connection and made a new one.</summary>
    internal int Reconnects { get; private set; }

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
                await using var connection = await _store.DataSource.OpenConnectionAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (e.Payload != NodeId)
                        _notified = true;
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {PostgreSqlStore.ArrivalChannel}", connection))
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
                    // A notification that came while catching up may be for a commit it did not see: look again.
                    if (!_notified)
                        await connection.WaitAsync(Fallback, stoppingToken);
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

    /// <summary>Publishes every message received after the cursor, oldest first, a page at a time.</summary>
    private async Task CatchUpAsync(NpgsqlConnection connection, CancellationToken stoppingToken)
    {
        while (true)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(ReadTimeout); // a connection that went silent fails here, not never
            await using var command = new NpgsqlCommand(
                $"SELECT {PostgreSqlStore.ListedColumns} FROM messages m WHERE m.received > @cursor ORDER BY m.received LIMIT {Page}",
                connection);
            command.Parameters.AddWithValue("cursor", Cursor);
            var arrived = await PostgreSqlStore.ReadListedAsync(command, timeout.Token);
            if (arrived.Count == 0)
                return;
            var others = arrived.Where(m => !_own.TryRemove(m.Id, out _)).ToList();
            if (others.Count > 0)
                _feed.Publish(others, local: false);
            Interlocked.Exchange(ref _cursor, arrived[^1].ReceivedTicks);
            if (arrived.Count < Page)
                return;
        }
    }
}
