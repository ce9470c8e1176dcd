using Microsoft.Extensions.Logging;
using Npgsql;

namespace MailSink.Storage.PostgreSql;

/// <summary>
/// The schema, as numbered steps applied in order at start. Several nodes may start at once: each takes a
/// session advisory lock, reads the version, applies what is missing (each step in its own transaction,
/// with the version it reaches), and lets go; a node that waited finds nothing left to do. A step, once
/// released, is never changed: a change to the schema is a new step.
/// </summary>
internal static class Migrations
{
    /// <summary>The advisory lock key of migrations (any constant that no other application uses in the database).</summary>
    private const long LockKey = 0x4D61696C53696E6B; // "MailSink"

    /// <summary>The advisory lock key of a change to the body index (see <see cref="MatchBodyIndexAsync"/>).</summary>
    private const long BodyIndexLockKey = LockKey + 1;

    private static readonly string[] Steps =
    [
        // 1: messages, what their copies share, inboxes, and the clock.
        """
        CREATE EXTENSION IF NOT EXISTS pg_trgm;

        -- The one row every commit and every delete updates: the last receive time given out (in .NET
        -- ticks, strictly increasing across every node, in commit order) and the bytes stored.
        CREATE TABLE clock (
            id int PRIMARY KEY CHECK (id = 1),
            ticks bigint NOT NULL,
            stored_bytes bigint NOT NULL
        );
        INSERT INTO clock VALUES (1, 0, 0);

        CREATE TABLE inboxes (
            id text PRIMARY KEY,
            name text NOT NULL,
            messages bigint NOT NULL,
            created bigint NOT NULL,
            last_received bigint NOT NULL
        );

        -- What the copies of one SMTP transaction share (one per inbox it reached): the raw message (Brotli
        -- chunks as ingest packed them, each flagged), the parsed fields, and the folded text search uses.
        CREATE TABLE contents (
            id text PRIMARY KEY,
            refs int NOT NULL,
            size bigint NOT NULL,
            raw bytea[] NOT NULL,
            raw_compressed boolean[] NOT NULL,
            summary text NOT NULL,
            detail text NOT NULL,
            subject_fold text NOT NULL,
            senders_fold text[] NOT NULL,
            recipients_fold text[] NOT NULL,
            body_fold text NOT NULL,
            bytes bigint NOT NULL -- what MaxTotalBytes counts of this row (ContentRow.Bytes)
        );
        -- Already compressed (or random): not worth compressing again.
        ALTER TABLE contents ALTER COLUMN raw SET STORAGE EXTERNAL;

        CREATE TABLE messages (
            id text PRIMARY KEY,
            inbox text NOT NULL,
            received bigint NOT NULL,
            size bigint NOT NULL,
            content_id text NOT NULL REFERENCES contents (id),
            attachment_ids text[] NOT NULL,
            bytes bigint NOT NULL -- what MaxTotalBytes counts of this row
        );
        CREATE UNIQUE INDEX messages_inbox_received ON messages (inbox, received);
        CREATE INDEX messages_received ON messages (received);
        CREATE INDEX messages_content ON messages (content_id);
        CREATE INDEX messages_attachments ON messages USING gin (attachment_ids) WHERE attachment_ids <> '{}';

        CREATE INDEX contents_subject_trgm ON contents USING gin (subject_fold gin_trgm_ops);
        CREATE INDEX contents_body_trgm ON contents USING gin (body_fold gin_trgm_ops);
        CREATE INDEX contents_senders ON contents USING gin (senders_fold);
        CREATE INDEX contents_recipients ON contents USING gin (recipients_fold);

        -- lz4 is quicker than the default pglz; a server built without it keeps pglz.
        DO $$
        BEGIN
            ALTER TABLE contents ALTER COLUMN summary SET COMPRESSION lz4, ALTER COLUMN detail SET COMPRESSION lz4,
                ALTER COLUMN body_fold SET COMPRESSION lz4;
        EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
            NULL;
        END $$;
        """,

        // 2: virtual security devices (TOTP shared secrets), kept like inboxes.
        """
        CREATE TABLE devices (
            id text PRIMARY KEY,
            name text NOT NULL,
            shared_secret text NOT NULL,
            created bigint NOT NULL
        );
        """,

        // 3: analyses kept with their message (a deliverability report, made once); gone with it.
        """
        CREATE TABLE analyses (
            message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
            kind text NOT NULL,
            json text NOT NULL,
            PRIMARY KEY (message_id, kind)
        );
        """,

        // 4: no foreign key from a message to its content. The writer inserts both in one transaction and
        // deletes take a content with its last copy (refs), so the key never caught anything; it cost a
        // check (a trigger, a lookup and a row lock) on every message inserted: 7% of PostgreSQL's CPU a
        // small message (docs/postgresql.md, "Schema"). A test recounts the references instead.
        """
        ALTER TABLE messages DROP CONSTRAINT IF EXISTS messages_content_id_fkey;
        """,
    ];

    /// <summary>The version a database has once every step is applied.</summary>
    public static int Latest => Steps.Length;

    /// <summary>The trigram index of bodies, which <see cref="PostgreSqlOptions.BodySearchIndex"/> keeps or drops.</summary>
    internal const string BodyIndex = "contents_body_trgm";

    /// <summary>
    /// Brings the database to <see cref="Latest"/>, then makes or drops the body index to match
    /// <paramref name="bodySearchIndex"/> (null: leaves it as it is); returns the version it had.
    /// </summary>
    public static async Task<int> ApplyAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken, bool? bodySearchIndex = null, ILogger? logger = null)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await Execute(connection, null, "SELECT pg_advisory_lock(@key)", cancellationToken, ("key", LockKey));
        int before;
        try
        {
            await Execute(connection, null, "CREATE TABLE IF NOT EXISTS schema_version (version int NOT NULL)", cancellationToken);
            before = await CurrentAsync(connection, cancellationToken);
            if (before > Latest)
                throw new StorageUnavailableException(
                    $"The database's schema is version {before}, newer than this MailSink knows ({Latest}): run the newer MailSink, or point MailSink:Storage:PostgreSql:ConnectionString at another database.");
            for (var version = before + 1; version <= Latest; version++)
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await Execute(connection, transaction, Steps[version - 1], cancellationToken);
                await Execute(connection, transaction, "DELETE FROM schema_version; INSERT INTO schema_version VALUES (@version)", cancellationToken, ("version", version));
                await transaction.CommitAsync(cancellationToken);
            }
        }
        finally
        {
            await Execute(connection, null, "SELECT pg_advisory_unlock(@key)", CancellationToken.None, ("key", LockKey));
        }

        if (bodySearchIndex is { } wanted)
            await MatchBodyIndexAsync(connection, wanted, logger, cancellationToken);
        return before;
    }

    /// <summary>
    /// Makes the body index when it is wanted and missing (or left invalid by a build that was stopped), and
    /// drops it when it is not wanted, both <c>CONCURRENTLY</c>: other nodes go on writing meanwhile, and a
    /// build over a large table takes a while. Under an advisory lock of its own, taken only if free: a
    /// node that finds another at it goes on (waiting would deadlock with the build, which waits for every
    /// statement under way, a node's wait for a lock included). Outside the migration lock for the same reason.
    /// </summary>
    private static async Task MatchBodyIndexAsync(NpgsqlConnection connection, bool wanted, ILogger? logger, CancellationToken cancellationToken)
    {
        var before = await BodyIndexValidAsync(connection, cancellationToken);
        if (wanted ? before == true : before is null)
            return;
        await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection))
        {
            tryLock.Parameters.AddWithValue("key", BodyIndexLockKey);
            if (await tryLock.ExecuteScalarAsync(cancellationToken) is not true)
                return;
        }

        try
        {
            // Again under the lock: a node that read "invalid" while another was still building the index
            // would otherwise drop the index the other has just finished, and build it all over again.
            var valid = await BodyIndexValidAsync(connection, cancellationToken);
            if (wanted ? valid == true : valid is null)
                return;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            if (valid is not null)
                await Execute(connection, null, $"DROP INDEX CONCURRENTLY IF EXISTS {BodyIndex}", cancellationToken);
            if (wanted)
                await Execute(connection, null, $"CREATE INDEX CONCURRENTLY IF NOT EXISTS {BodyIndex} ON contents USING gin (body_fold gin_trgm_ops)", cancellationToken);
            if (logger is not null)
                PostgreSqlLog.BodyIndexChanged(logger, wanted ? "made" : "dropped", (long)System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        finally
        {
            await Execute(connection, null, "SELECT pg_advisory_unlock(@key)", CancellationToken.None, ("key", BodyIndexLockKey));
        }
    }

    /// <summary>Whether the body index is there and valid; null when it is not there at all.</summary>
    private static async Task<bool?> BodyIndexValidAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var state = new NpgsqlCommand($"SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('{BodyIndex}')", connection);
        return await state.ExecuteScalarAsync(cancellationToken) as bool?;
    }

    private static async Task<int> CurrentAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT max(version) FROM schema_version", connection);
        return await command.ExecuteScalarAsync(cancellationToken) is int version ? version : 0;
    }

    private static async Task Execute(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
