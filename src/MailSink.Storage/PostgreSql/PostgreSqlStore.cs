using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MailSink.Storage.PostgreSql;

/// <summary>
/// The PostgreSQL engine: one database that any number of MailSink processes share. Tables (see
/// <see cref="Migrations"/>): <c>messages</c> (one row per inbox copy), <c>contents</c> (what the copies of
/// one SMTP transaction share: raw message, parsed fields, folded text for search), <c>inboxes</c> (with
/// their counts) and <c>clock</c> (receive times and bytes stored). Nothing read is kept in memory: another
/// node may change anything at any time. Every use takes a pooled connection for its duration; every failure
/// of the database becomes <see cref="StorageUnavailableException"/> (503 for the API, 451 for SMTP), and
/// the pool connects again by itself once the database is back.
/// </summary>
internal sealed partial class PostgreSqlStore : IAsyncDisposable
{
    /// <summary>The channel commits notify and <see cref="PostgreSqlListener"/> listens on.</summary>
    internal const string ArrivalChannel = "mailsink_arrivals";

    /// <summary>How the <c>application_name</c> of every node's listener starts (<see cref="ListenerName"/>).</summary>
    internal const string ListenerNamePrefix = "mailsink listener ";

    /// <summary>
    /// The <c>application_name</c> a node's listener gives its connection, so that commits can tell whether
    /// any other node listens (<see cref="PostgreSqlWriter"/>): <see cref="ListenerNamePrefix"/> and the node's id.
    /// </summary>
    internal static string ListenerName(string nodeId) => ListenerNamePrefix + nodeId;

    /// <summary>
    /// Notifies <see cref="ArrivalChannel"/> at the commit, with the node's id ($1), when a listener of another
    /// node is connected to this database, and answers a row if so: a node alone (or whose peers are all
    /// gone) wakes nobody, its own listener ($2) included, which would only pass over the notification.
    /// </summary>
    internal const string NotifyOtherNodes =
        $"SELECT pg_notify('{ArrivalChannel}', $1) WHERE EXISTS (SELECT 1 FROM pg_stat_activity"
        + " WHERE datid = (SELECT oid FROM pg_database WHERE datname = current_database())"
        + $" AND application_name LIKE '{ListenerNamePrefix}%' AND application_name <> $2)";

    /// <summary>Now in .NET ticks (UTC), by the database's clock: one clock for every node.</summary>
    internal const string NowTicks = "((extract(epoch from clock_timestamp()) * 10000000)::bigint + 621355968000000000)";

    /// <summary>The backend option every connection starts with (last, so that it wins over one the connection string gave).</summary>
    internal const string SynchronousCommit = "-c synchronous_commit=on";

    private readonly ILogger<PostgreSqlStore> _logger;
    private readonly bool _bodySearchIndex;

    public PostgreSqlStore(IOptions<StorageOptions> options, ILoggerFactory loggerFactory)
    {
        _logger = loggerFactory.CreateLogger<PostgreSqlStore>();
        _bodySearchIndex = options.Value.PostgreSql.BodySearchIndex;
        var builder = new NpgsqlDataSourceBuilder(options.Value.PostgreSql.ConnectionString);
        var settings = builder.ConnectionStringBuilder;
        if (string.IsNullOrEmpty(settings.ApplicationName))
            settings.ApplicationName = "MailSink";
        // The same few statements run all the time: prepared once per connection, they skip parsing and planning.
        if (!Names(options.Value.PostgreSql.ConnectionString, "Max Auto Prepare", "MaxAutoPrepare"))
            settings.MaxAutoPrepare = 64;
        // MailSink changes no session state a pooled connection could carry over (its SETs are LOCAL to a
        // transaction, its advisory locks are let go, and LISTEN happens only on ListenSource's unpooled
        // connection), so the pool need not reset each connection it hands back: five statements fewer for
        // every commit and every API call.
        settings.NoResetOnClose = true;
        // Every commit waits for its WAL to be flushed (a 250 survives a power loss of the database server),
        // whatever the server's or the role's default: set when each connection starts, above both, instead
        // of a SET LOCAL in every transaction.
        settings.Options = string.IsNullOrWhiteSpace(settings.Options) ? SynchronousCommit : $"{settings.Options} {SynchronousCommit}";
        builder.UseLoggerFactory(loggerFactory);
        DataSource = builder.Build();

        // Searches are never prepared: a prepared statement soon runs on a generic plan, made without the
        // needle, and for LIKE '%needle%' that plan is the same whatever the needle; planned for each needle
        // (its trigrams' selectivity known), a subject search over 10,000 messages had p99 30 ms, not 120.
        var searches = new NpgsqlDataSourceBuilder(settings.ConnectionString);
        searches.ConnectionStringBuilder.MaxAutoPrepare = 0;
        searches.UseLoggerFactory(loggerFactory);
        SearchSource = searches.Build();

        // The listener's connection LISTENs, which is session state: closed when the listener is done with
        // it, never handed back to the pool above, where the next user would hold notifications nobody reads.
        var listen = new NpgsqlDataSourceBuilder(settings.ConnectionString);
        listen.ConnectionStringBuilder.Pooling = false;
        listen.UseLoggerFactory(loggerFactory);
        ListenSource = listen.Build();
        Where = $"{settings.Host}:{settings.Port}/{settings.Database}";
    }

    internal NpgsqlDataSource DataSource { get; }

    /// <summary>Connections for searches, whose statements are planned for each needle (see the constructor).</summary>
    private NpgsqlDataSource SearchSource { get; }

    /// <summary>Unpooled connections, for the listener's LISTEN (see the constructor).</summary>
    internal NpgsqlDataSource ListenSource { get; }

    /// <summary>Host, port and database, for messages and the health check (never the password).</summary>
    internal string Where { get; }

    /// <summary>
    /// Brings the schema up to date (several nodes may start at once) and answers the clock's time, from
    /// which the listener starts. A database that cannot be reached or used stops the start with one line.
    /// </summary>
    public async Task<long> OpenAsync(CancellationToken cancellationToken)
    {
        try
        {
            var before = await Migrations.ApplyAsync(DataSource, cancellationToken, _bodySearchIndex, _logger);
            if (before < Migrations.Latest)
                PostgreSqlLog.SchemaMigrated(_logger, Where, before, Migrations.Latest);
            var (ticks, messages) = await UseAsync(async connection =>
            {
                await using var command = new NpgsqlCommand("SELECT ticks, (SELECT coalesce(sum(messages), 0)::bigint FROM inboxes) FROM clock WHERE id = 1", connection);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                await reader.ReadAsync(cancellationToken);
                return (reader.GetInt64(0), reader.GetInt64(1));
            }, cancellationToken);
            Log.StorageOpened(_logger, Where, messages);
            return ticks;
        }
        catch (Exception ex) when (ex is StorageUnavailableException || (IsDatabaseFault(ex) && !cancellationToken.IsCancellationRequested))
        {
            var cause = ex is StorageUnavailableException { InnerException: { } inner } ? inner : ex;
            throw new StorageUnavailableException(
                $"Cannot use the PostgreSQL database {Where}: {cause.Message.TrimEnd('.')}. Check {PostgreSqlOptions.ConnectionStringKey}.", ex);
        }
    }

    /// <summary>Whether PostgreSQL answers within <paramref name="cancellationToken"/>'s time.</summary>
    internal Task ProbeAsync(CancellationToken cancellationToken) => UseAsync(async connection =>
    {
        await using var command = new NpgsqlCommand("SELECT 1", connection);
        return await command.ExecuteScalarAsync(cancellationToken);
    }, cancellationToken);

    /// <summary>The first row a read gave, or null (a lookup by key).</summary>
    private static T? FirstOrNull<T>(IReadOnlyList<T> rows)
        where T : class => rows.Count > 0 ? rows[0] : null;

    /// <summary>
    /// Runs a use of the database on a pooled connection. A failure of the database or of the way to it
    /// becomes <see cref="StorageUnavailableException"/>; once the caller has cancelled, any failure is that
    /// cancellation (a connection that broke just as an await's deadline passed is not a 500).
    /// </summary>
    internal async Task<T> UseAsync<T>(Func<NpgsqlConnection, Task<T>> use, CancellationToken cancellationToken, bool search = false)
    {
        try
        {
            await using var connection = await (search ? SearchSource : DataSource).OpenConnectionAsync(cancellationToken);
            return await use(connection);
        }
        catch (Exception ex) when (IsDatabaseFault(ex))
        {
            if (!cancellationToken.IsCancellationRequested)
                throw new StorageUnavailableException($"PostgreSQL at {Where} failed: {ex.Message}", ex);
            if (ex is OperationCanceledException)
                throw;
            throw new OperationCanceledException("Cancelled while PostgreSQL failed.", ex, cancellationToken);
        }
    }

    /// <summary>
    /// Runs <paramref name="use"/> in a transaction that first takes the clock's row: every change to the
    /// counters (commits, deletes, retention) holds it, so they never deadlock on inbox or content rows.
    /// A deadlock or serialization failure (another node's transaction) is tried again, twice.
    /// </summary>
    internal async Task<T> InCountedTransactionAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> use, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await UseAsync(async connection =>
                {
                    await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                    await using (var lockClock = new NpgsqlCommand("SELECT 1 FROM clock WHERE id = 1 FOR UPDATE", connection, transaction))
                        await lockClock.ExecuteNonQueryAsync(cancellationToken);
                    var result = await use(connection, transaction);
                    await transaction.CommitAsync(cancellationToken);
                    return result;
                }, cancellationToken);
            }
            catch (StorageUnavailableException ex) when (attempt < 3 && ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure })
            {
                // try again
            }
        }
    }

    /// <summary>The last receive time the clock has given out, as committed.</summary>
    internal static async Task<long> ClockTicksAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var clock = new NpgsqlCommand("SELECT ticks FROM clock WHERE id = 1", connection);
        return (long)(await clock.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Failures of PostgreSQL or of the connection to it (not of MailSink's own logic).</summary>
    internal static bool IsDatabaseFault(Exception ex) =>
        ex is NpgsqlException or SocketException or IOException or TimeoutException or OperationCanceledException
        || (ex is InvalidOperationException && ex.Source == "Npgsql");

    private static bool Names(string connectionString, params string[] keys) =>
        keys.Any(key => connectionString.Contains(key, StringComparison.OrdinalIgnoreCase));

    public async ValueTask DisposeAsync()
    {
        await ListenSource.DisposeAsync();
        await SearchSource.DisposeAsync();
        await DataSource.DisposeAsync();
    }
}
