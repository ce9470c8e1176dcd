using MailSink.Storage.Ingest;
using Npgsql;
using NpgsqlTypes;

namespace MailSink.Storage.PostgreSql;

/// <summary>The <c>contents</c> row of one SMTP transaction: what its inbox copies share.</summary>
internal static class ContentRow
{
    /// <summary>
    /// The insert of <paramref name="write"/>'s content, with everything search needs folded
    /// (<see cref="TextFold"/>), and the bytes it stores as <c>MaxTotalBytes</c> counts them: the raw
    /// message as stored and the text of every column, before PostgreSQL's own compression (a little more
    /// than the disk holds, never less). Counted here, in .NET, and kept in the row: summing
    /// <c>pg_column_size</c> over the rows just written took 1.5 ms of each commit, holding the clock.
    /// </summary>
    public static (NpgsqlBatchCommand Command, long Bytes) Insert(PendingWrite write)
    {
        var message = write.Messages[0];
        var facts = Search.SearchFacts.Of(message);
        var summary = ContentJson.Summary(message);
        var detail = ContentJson.Detail(message);
        var subject = TextFold.Fold(message.Subject);
        var senders = facts.Senders.Select(TextFold.Fold).Distinct(StringComparer.Ordinal).ToArray();
        var recipients = facts.Recipients.Select(TextFold.Fold).Distinct(StringComparer.Ordinal).ToArray();
        var body = TextFold.FoldBodies(message.Text, message.Html);
        var bytes = RowOverhead + write.Raw.StoredBytes + Text(summary) + Text(detail) + Text(subject) + Text(body)
                    + senders.Sum(Text) + recipients.Sum(Text);

        var command = PostgreSqlWriter.Statement(
            "INSERT INTO contents (id, refs, size, raw, raw_compressed, summary, detail, subject_fold, senders_fold, recipients_fold, body_fold, bytes)"
            + " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            write.RawId, write.Messages.Count, message.Size,
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea, Value = write.Raw.Chunks.Select(c => c.Data).ToArray() },
            write.Raw.Chunks.Select(c => c.Compressed).ToArray(), summary, detail, subject, senders, recipients, body, bytes);
        return (command, bytes);
    }

    /// <summary>What a <c>messages</c> row stores, counted the same way.</summary>
    public static long MessageBytes(StoredMessage message, string contentId) =>
        RowOverhead + Text(message.Id) + Text(message.Inbox) + Text(contentId) + (3 * sizeof(long)) + message.Attachments.Sum(a => Text(a.Id));

    /// <summary>A row's header and the columns' length words, roughly.</summary>
    private const long RowOverhead = 48;

    private static long Text(string? text) => text is null ? 0 : System.Text.Encoding.UTF8.GetByteCount(text) + 4;

    /// <summary>
    /// The raw message from its stored chunks, byte for byte as received: each chunk as ingest packed it
    /// (<see cref="RawMessage"/>), Brotli-compressed exactly when flagged.
    /// </summary>
    public static byte[] Unpack(byte[][] chunks, bool[] compressed, long size, string id)
    {
        if (chunks.Length != compressed.Length)
            throw new InvalidDataException($"The raw message of {id} has {chunks.Length} chunks and {compressed.Length} flags.");
        var raw = new byte[size];
        var at = 0;
        for (var i = 0; i < chunks.Length; i++)
            at += RawMessage.Unpack(chunks[i], compressed[i], raw.AsSpan(at), id);
        if (at != raw.Length)
            throw new InvalidDataException($"The raw message of {id} holds {at} bytes, not the {raw.Length} recorded.");
        return raw;
    }
}
