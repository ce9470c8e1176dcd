using MailSink.Storage.Retention;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace MailSink.Storage.PostgreSql;

/// <summary>
/// Retention, oldest first, in short transactions of at most <see cref="RetentionBatch"/> messages. Every
/// node runs the pass, but each transaction first tries a transaction-scoped advisory lock: when another
/// node holds it, that node is doing the work and this pass stops.
/// </summary>
internal sealed partial class PostgreSqlStore : IRetentionStore
{
    private const int RetentionBatch = 500;

    /// <summary>The advisory lock key of retention ("MailSinR").</summary>
    private const long RetentionLockKey = 0x4D61696C53696E52;

    public Task<long> StoredBytesAsync(CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("SELECT stored_bytes FROM clock WHERE id = 1", connection);
            return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }, cancellationToken);

    public async Task<int> ApplyRetentionAsync(IRetentionLimits limits, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var removed = 0;
        if (limits.MaxMessagesPerInbox > 0)
        {
            foreach (var inbox in await InboxesOverAsync(limits.MaxMessagesPerInbox, cancellationToken))
            {
                // The oldest beyond the cap, as the counter says within the transaction.
                int? n;
                do
                {
                    n = await RemoveStepAsync(
                        "id IN (SELECT id FROM messages WHERE inbox = @inbox ORDER BY received"
                        + " LIMIT least(@batch, (SELECT greatest(0, messages - @keep) FROM inboxes WHERE id = @inbox)))",
                        cancellationToken, ("inbox", inbox), ("keep", limits.MaxMessagesPerInbox));
                    if (n is null)
                        return removed;
                    removed += n.Value;
                }
                while (n == RetentionBatch);
            }
        }

        if (limits.MaxAge > TimeSpan.Zero)
        {
            // Age by the database's clock, which gave the receive times: a node whose own clock runs ahead
            // would otherwise take mail that has only just come for old. Read once and passed as a value: the
            // clock function in the condition itself would keep the index from stopping at the cutoff, and
            // every pass would read the whole table while it holds the clock's row.
            var before = await UseAsync(async connection =>
            {
                await using var clock = new NpgsqlCommand($"SELECT {NowTicks}", connection);
                return (long)(await clock.ExecuteScalarAsync(cancellationToken))! - limits.MaxAge.Ticks;
            }, cancellationToken);
            int? n;
            while ((n = await RemoveStepAsync(
                       "id IN (SELECT id FROM messages WHERE received < @before ORDER BY received LIMIT @batch)",
                       cancellationToken, ("before", before))) is > 0)
                removed += n.Value;
            if (n is null)
                return removed;
        }

        if (limits.MaxTotalBytes > 0)
        {
            // Small steps: a message can be large, and only the excess should go (RetentionSteps, in SQL:
            // as many of the oldest as the excess is worth at the average message size, 1 to MaxStep).
            int? n;
            while ((n = await RemoveStepAsync(
                       "id IN (SELECT id FROM messages ORDER BY received LIMIT (SELECT CASE WHEN k.stored_bytes <= @max THEN 0"
                       + $" ELSE least({RetentionSteps.MaxStep}, greatest(1, ceil((k.stored_bytes - @max)::numeric"
                       + " * (SELECT coalesce(sum(messages), 0) FROM inboxes) / k.stored_bytes)))::int END FROM clock k WHERE k.id = 1))",
                       cancellationToken, ("max", limits.MaxTotalBytes))) is > 0)
                removed += n.Value;
        }

        return removed;
    }

    private Task<List<string>> InboxesOverAsync(long keep, CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("SELECT id FROM inboxes WHERE messages > @keep ORDER BY id", connection);
            command.Parameters.AddWithValue("keep", keep);
            var inboxes = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                inboxes.Add(reader.GetString(0));
            return inboxes;
        }, cancellationToken);

    /// <summary>One short transaction of retention: how many messages went, or null when another node is running retention.</summary>
    private async Task<int?> RemoveStepAsync(string condition, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        var removed = await UseAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var claim = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(@key)", connection, transaction))
            {
                claim.Parameters.AddWithValue("key", RetentionLockKey);
                if (!(bool)(await claim.ExecuteScalarAsync(cancellationToken))!)
                    return (int?)null;
            }

            await using (var lockClock = new NpgsqlCommand("SELECT 1 FROM clock WHERE id = 1 FOR UPDATE", connection, transaction))
                await lockClock.ExecuteNonQueryAsync(cancellationToken);
            var n = await RemoveAsync(connection, transaction, condition, cancellationToken, [.. parameters, ("batch", (long)RetentionBatch)]);
            await transaction.CommitAsync(cancellationToken);
            return n;
        }, cancellationToken);
        if (removed is null)
            PostgreSqlLog.RetentionElsewhere(_logger, Where);
        return removed;
    }
}
