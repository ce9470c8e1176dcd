using Npgsql;

namespace MailSink.Storage.PostgreSql;

/// <summary>
/// Deletes: one message, an inbox's messages, an inbox, and what retention removes. One statement removes
/// the copies, takes one reference off each content (deleting a content with its last copy), lowers the
/// inbox counters and the bytes stored, inside a transaction that holds the clock's row.
/// </summary>
internal sealed partial class PostgreSqlStore
{
    public async Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        await InCountedTransactionAsync((connection, transaction) =>
            RemoveAsync(connection, transaction, "id = @id", cancellationToken, ("id", TextFold.Storable(id))), cancellationToken) > 0;

    public Task<int> DeleteAllAsync(string inbox, CancellationToken cancellationToken) =>
        RemoveInboxInStepsAsync(TextFold.Storable(inbox), cancellationToken);

    /// <summary>Messages an inbox delete removes in one transaction, oldest first.</summary>
    internal const int DeleteStep = 5000;

    /// <summary>
    /// Removes an inbox's messages received up to the clock's time when it starts, <see cref="DeleteStep"/> to a
    /// transaction: each holds the clock's row, which every node's commits wait for, so one statement over an
    /// inbox of millions would stall them all (and outlast the command timeout, failing every time).
    /// </summary>
    private async Task<int> RemoveInboxInStepsAsync(string storableInbox, CancellationToken cancellationToken)
    {
        var upTo = await UseAsync(connection => ClockTicksAsync(connection, cancellationToken), cancellationToken);
        int removed = 0, step;
        do
        {
            step = await InCountedTransactionAsync((connection, transaction) => RemoveAsync(
                connection, transaction,
                "id IN (SELECT id FROM messages WHERE inbox = @inbox AND received <= @upTo ORDER BY received LIMIT @step)",
                cancellationToken, ("inbox", storableInbox), ("upTo", upTo), ("step", DeleteStep)), cancellationToken);
            removed += step;
        }
        while (step == DeleteStep);
        return removed;
    }

    /// <summary>
    /// Removes the messages that <paramref name="condition"/> (on <c>messages</c>) selects, with what goes
    /// with them; how many went. In a transaction that holds the clock's row, so that the snapshot's
    /// reference counts are the current ones.
    /// </summary>
    internal static async Task<int> RemoveAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string condition, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(
            $"""
            WITH gone AS (
                DELETE FROM messages WHERE {condition} RETURNING inbox, content_id, bytes
            ), per_content AS (
                SELECT content_id, count(*) AS n FROM gone GROUP BY content_id
            ), released AS (
                UPDATE contents c SET refs = c.refs - p.n FROM per_content p WHERE c.id = p.content_id AND c.refs > p.n
            ), dropped AS (
                DELETE FROM contents c USING per_content p WHERE c.id = p.content_id AND c.refs <= p.n RETURNING c.bytes
            ), counted AS (
                UPDATE inboxes i SET messages = greatest(0, i.messages - g.n)
                FROM (SELECT inbox, count(*) AS n FROM gone GROUP BY inbox) g WHERE i.id = g.inbox
            ), stored AS (
                UPDATE clock SET stored_bytes = stored_bytes
                    - (SELECT coalesce(sum(bytes), 0) FROM gone) - (SELECT coalesce(sum(bytes), 0) FROM dropped) WHERE id = 1
            )
            SELECT count(*) FROM gone
            """,
            connection, transaction);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
