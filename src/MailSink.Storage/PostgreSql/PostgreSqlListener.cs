using Microsoft.Extensions.Logging;
using Npgsql;

namespace MailSink.Storage.PostgreSql;

/// <summary>
/// Announces every commit of every node on this node's <see cref="ArrivalFeed"/>, each message once, in
/// receive-time order. A dedicated connection LISTENs; on each notification, on every (re)connection and
/// every <see cref="Fallback"/> besides, it reads the messages received after its cursor, a page at a time,
/// publishes them and moves the cursor on. That is sound because receive times are given out in commit
/// order (<see cref="PostgreSqlWriter"/>): once a message is visible, every message with an earlier time
/// that will ever be visible already is. The cursor starts at the clock's time when the node starts; after
/// a lost connection the listener connects again by itself (with a growing pause) and catches up from it.
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
    private long _cursor;
    private volatile bool _notified;

    public PostgreSqlListener(PostgreSqlStore store, ArrivalFeed feed, ILogger<PostgreSqlListener> logger)
    {
        _store = store;
        _feed = feed;
        _logger = logger;
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
                connection.Notification += (_, _) => _notified = true;
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
            _feed.Publish(arrived);
            Interlocked.Exchange(ref _cursor, arrived[^1].ReceivedTicks);
            if (arrived.Count < Page)
                return;
        }
    }
}
