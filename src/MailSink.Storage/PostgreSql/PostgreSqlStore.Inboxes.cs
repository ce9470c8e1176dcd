using Npgsql;

namespace MailSink.Storage.PostgreSql;

/// <summary>Inboxes (Mailosaur "servers") through the seam. Counters change only with messages, in their transactions.</summary>
internal sealed partial class PostgreSqlStore : IInboxRepository
{
    private const string InboxColumns = "id, name, messages, created, last_received";

    Task<IReadOnlyList<InboxRecord>> IInboxRepository.ListAsync(CancellationToken cancellationToken) =>
        UseAsync<IReadOnlyList<InboxRecord>>(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT {InboxColumns} FROM inboxes ORDER BY created, id", connection);
            return await ReadInboxesAsync(command, cancellationToken);
        }, cancellationToken);

    Task<InboxRecord?> IInboxRepository.GetAsync(string id, CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT {InboxColumns} FROM inboxes WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", TextFold.Storable(id));
            return FirstOrNull(await ReadInboxesAsync(command, cancellationToken));
        }, cancellationToken);

    Task<InboxRecord> IInboxRepository.CreateAsync(string name, CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            while (true)
            {
                await using var command = new NpgsqlCommand(
                    $"INSERT INTO inboxes ({InboxColumns}) VALUES (@id, @name, 0, {NowTicks}, 0) ON CONFLICT (id) DO NOTHING RETURNING {InboxColumns}",
                    connection);
                command.Parameters.AddWithValue("id", InboxRecord.NewId());
                command.Parameters.AddWithValue("name", TextFold.Storable(name));
                if (FirstOrNull(await ReadInboxesAsync(command, cancellationToken)) is { } created)
                    return created; // else the id was taken: another one
            }
        }, cancellationToken);

    Task<InboxRecord?> IInboxRepository.RenameAsync(string id, string name, CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            await using var command = new NpgsqlCommand($"UPDATE inboxes SET name = @name WHERE id = @id RETURNING {InboxColumns}", connection);
            command.Parameters.AddWithValue("id", TextFold.Storable(id));
            command.Parameters.AddWithValue("name", TextFold.Storable(name));
            return FirstOrNull(await ReadInboxesAsync(command, cancellationToken));
        }, cancellationToken);

    /// <summary>
    /// Deletes the inbox's messages (in steps: <see cref="RemoveInboxInStepsAsync"/>), then, in one transaction,
    /// what came meanwhile and its record. Mail committed for it after that (by any node) is not lost: its
    /// commit makes the record again, counting only what it brought.
    /// </summary>
    async Task<bool> IInboxRepository.DeleteAsync(string id, CancellationToken cancellationToken)
    {
        var storable = TextFold.Storable(id);
        await RemoveInboxInStepsAsync(storable, cancellationToken);
        return await InCountedTransactionAsync(async (connection, transaction) =>
        {
            await RemoveAsync(connection, transaction, "inbox = @inbox", cancellationToken, ("inbox", storable));
            await using var command = new NpgsqlCommand("DELETE FROM inboxes WHERE id = @id", connection, transaction);
            command.Parameters.AddWithValue("id", storable);
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);
    }

    private static async Task<IReadOnlyList<InboxRecord>> ReadInboxesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var inboxes = new List<InboxRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            inboxes.Add(new InboxRecord
            {
                Id = reader.GetString(0),
                Name = reader.GetString(1),
                Messages = reader.GetInt64(2),
                CreatedTicks = reader.GetInt64(3),
                LastReceivedTicks = reader.GetInt64(4),
            });
        }

        return inboxes;
    }
}
