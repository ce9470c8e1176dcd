using Npgsql;

namespace MailSink.Storage.PostgreSql;

/// <summary>Devices and usage counts through the seam.</summary>
internal sealed partial class PostgreSqlStore : IDeviceRepository, IUsageReader, IAnalysisStore
{
    Task<string?> IAnalysisStore.GetAnalysisAsync(string messageId, string kind, CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("SELECT json FROM analyses WHERE message_id = @id AND kind = @kind", connection);
            command.Parameters.AddWithValue("id", TextFold.Storable(messageId));
            command.Parameters.AddWithValue("kind", kind);
            return await command.ExecuteScalarAsync(cancellationToken) as string;
        }, cancellationToken);

    /// <summary>Kept only while the message is there; the foreign key takes it away with the message.</summary>
    Task IAnalysisStore.SaveAnalysisAsync(string messageId, string kind, string json, CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                "INSERT INTO analyses (message_id, kind, json) SELECT @id, @kind, @json WHERE EXISTS (SELECT 1 FROM messages WHERE id = @id) "
                + "ON CONFLICT (message_id, kind) DO UPDATE SET json = excluded.json", connection);
            command.Parameters.AddWithValue("id", TextFold.Storable(messageId));
            command.Parameters.AddWithValue("kind", kind);
            command.Parameters.AddWithValue("json", TextFold.Storable(json));
            try
            {
                return await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                return 0; // the message was deleted (on any node) between the check and the insert: nothing to keep
            }
        }, cancellationToken);

    private const string DeviceColumns = "id, name, shared_secret, created";

    Task<IReadOnlyList<DeviceRecord>> IDeviceRepository.ListAsync(CancellationToken cancellationToken) =>
        UseAsync<IReadOnlyList<DeviceRecord>>(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT {DeviceColumns} FROM devices ORDER BY created, id", connection);
            return await ReadDevicesAsync(command, cancellationToken);
        }, cancellationToken);

    Task<DeviceRecord?> IDeviceRepository.GetAsync(string id, CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT {DeviceColumns} FROM devices WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", TextFold.Storable(id));
            return FirstOrNull(await ReadDevicesAsync(command, cancellationToken));
        }, cancellationToken);

    Task<DeviceRecord> IDeviceRepository.CreateAsync(string name, string sharedSecret, CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                $"INSERT INTO devices ({DeviceColumns}) VALUES (@id, @name, @secret, {NowTicks}) RETURNING {DeviceColumns}", connection);
            command.Parameters.AddWithValue("id", Guid.NewGuid().ToString());
            command.Parameters.AddWithValue("name", TextFold.Storable(name));
            command.Parameters.AddWithValue("secret", TextFold.Storable(sharedSecret));
            return (await ReadDevicesAsync(command, cancellationToken)).Single();
        }, cancellationToken);

    Task<bool> IDeviceRepository.DeleteAsync(string id, CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            await using var command = new NpgsqlCommand("DELETE FROM devices WHERE id = @id", connection);
            command.Parameters.AddWithValue("id", TextFold.Storable(id));
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

    /// <summary>Grouped in the database over the index on receive time (ticks; 864,000,000,000 to a day).</summary>
    Task<IReadOnlyList<DailyCount>> IUsageReader.CountByDayAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        UseAsync<IReadOnlyList<DailyCount>>(async connection =>
        {
            await using var command = new NpgsqlCommand(
                "SELECT received / 864000000000 AS day, count(*) FROM messages WHERE received >= @since GROUP BY day ORDER BY day", connection);
            command.Parameters.AddWithValue("since", since.UtcTicks);
            var days = new List<DailyCount>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                days.Add(new DailyCount(DateOnly.FromDayNumber((int)reader.GetInt64(0)), reader.GetInt64(1)));
            return days;
        }, cancellationToken);

    private static async Task<IReadOnlyList<DeviceRecord>> ReadDevicesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var devices = new List<DeviceRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            devices.Add(new DeviceRecord { Id = reader.GetString(0), Name = reader.GetString(1), SharedSecret = reader.GetString(2), CreatedTicks = reader.GetInt64(3) });
        return devices;
    }
}
