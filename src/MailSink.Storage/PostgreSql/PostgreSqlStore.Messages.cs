using MailSink.Storage.Mime;
using Npgsql;

namespace MailSink.Storage.PostgreSql;

/// <summary>Messages read through the seam: lists, whole messages, raw bytes, attachments.</summary>
internal sealed partial class PostgreSqlStore : IMessageRepository
{
    /// <summary>
    /// The columns a listing and an arrival read (in this order: see <see cref="ReadListed"/>), from <c>messages m</c>.
    /// The summary is looked up row by row: a join let the planner hash the whole of <c>contents</c> for a
    /// page of 50 whenever its statistics lagged behind a table that had just grown (each arrival's read then
    /// cost as much as the table was large).
    /// </summary>
    internal const string ListedColumns = "m.id, m.inbox, m.received, m.size, m.attachment_ids, (SELECT c.summary FROM contents c WHERE c.id = m.content_id)";

    /// <summary>The same columns where <c>contents c</c> is joined already (search).</summary>
    internal const string ListedJoinedColumns = "m.id, m.inbox, m.received, m.size, m.attachment_ids, c.summary";

    internal const string Joined = "messages m JOIN contents c ON c.id = m.content_id";

    public Task<IReadOnlyList<StoredMessage>> ListAsync(
        string inbox, int skip, int take, DateTimeOffset? receivedAfter, CancellationToken cancellationToken, bool oldestFirst = false) =>
        UseAsync<IReadOnlyList<StoredMessage>>(async connection =>
        {
            await using var command = new NpgsqlCommand(
                $"SELECT {ListedColumns} FROM messages m WHERE m.inbox = @inbox AND m.received > @after ORDER BY m.received {(oldestFirst ? "ASC" : "DESC")} OFFSET @skip LIMIT @take",
                connection);
            command.Parameters.AddWithValue("inbox", TextFold.Storable(inbox));
            command.Parameters.AddWithValue("after", After(receivedAfter));
            command.Parameters.AddWithValue("skip", (long)skip);
            command.Parameters.AddWithValue("take", (long)take);
            return await ReadListedAsync(command, cancellationToken);
        }, cancellationToken);

    public async Task<StoredMessage?> GetAsync(string id, CancellationToken cancellationToken)
    {
        // Parsed after the connection went back to the pool.
        if (await ReadWholeAsync("m.id = @id", id, cancellationToken) is not { } read)
            return null;
        read.Message.SetContent(MessageParser.ReadContent(read.Raw));
        return read.Message;
    }

    public async Task<byte[]?> GetRawAsync(string id, CancellationToken cancellationToken) =>
        await UseAsync(async connection =>
        {
            await using var command = new NpgsqlCommand($"SELECT c.raw, c.raw_compressed, c.size FROM {Joined} WHERE m.id = @id", connection);
            command.Parameters.AddWithValue("id", TextFold.Storable(id));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            return await reader.ReadAsync(cancellationToken)
                ? (Chunks: reader.GetFieldValue<byte[][]>(0), Compressed: reader.GetFieldValue<bool[]>(1), Size: reader.GetInt64(2))
                : default((byte[][] Chunks, bool[] Compressed, long Size)?);
        }, cancellationToken) is { } found
            ? ContentRow.Unpack(found.Chunks, found.Compressed, found.Size, id)
            : null;

    public async Task<AttachmentFile?> GetAttachmentAsync(string attachmentId, CancellationToken cancellationToken)
    {
        var read = await ReadWholeAsync("m.attachment_ids <> '{}' AND m.attachment_ids @> ARRAY[@id]", attachmentId, cancellationToken);
        var attachment = read?.Message.Attachments.FirstOrDefault(a => a.Id == attachmentId);
        if (attachment is null || MessageParser.FindPart(read!.Value.Raw, attachment.PartIndex, attachment.ContentType) is not { } part)
            return null;
        using var decoded = new MemoryStream();
        MessageParser.WriteAttachment(part, decoded);
        return new AttachmentFile(attachment, decoded.ToArray());
    }

    /// <summary>A message with every parsed field (not yet its bodies and headers) and its raw bytes.</summary>
    private readonly record struct Whole(StoredMessage Message, byte[] Raw);

    /// <summary>The one message that <paramref name="condition"/> (on <c>m</c>, with <c>@id</c>) finds, whole; null when none.</summary>
    private Task<Whole?> ReadWholeAsync(string condition, string id, CancellationToken cancellationToken) =>
        UseAsync(async connection =>
        {
            await using var command = new NpgsqlCommand(
                $"SELECT {ListedJoinedColumns}, c.detail, c.raw, c.raw_compressed FROM {Joined} WHERE {condition} LIMIT 1", connection);
            command.Parameters.AddWithValue("id", TextFold.Storable(id));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
                return default(Whole?);
            var message = ReadListed(reader, detail: reader.GetString(6));
            return new Whole(message, ContentRow.Unpack(reader.GetFieldValue<byte[][]>(7), reader.GetFieldValue<bool[]>(8), message.Size, message.Id));
        }, cancellationToken);

    /// <summary>Every row of <paramref name="command"/> (selecting <see cref="ListedColumns"/> or <see cref="ListedJoinedColumns"/>) as a listed message.</summary>
    internal static async Task<IReadOnlyList<StoredMessage>> ReadListedAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var messages = new List<StoredMessage>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            messages.Add(ReadListed(reader));
        return messages;
    }

    /// <summary>The current row (<see cref="ListedColumns"/> first) as a message as a listing shows it, or whole with <paramref name="detail"/>.</summary>
    internal static StoredMessage ReadListed(NpgsqlDataReader reader, string? detail = null) => ContentJson.Message(
        reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetFieldValue<string[]>(4), reader.GetString(5), detail);

    /// <summary>The receive time after which a listing starts (every message when none is given).</summary>
    internal static long After(DateTimeOffset? receivedAfter) => receivedAfter?.UtcTicks ?? long.MinValue;
}
