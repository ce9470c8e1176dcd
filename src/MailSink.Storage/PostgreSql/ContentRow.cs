using MailSink.Storage.Ingest;
using Npgsql;
using NpgsqlTypes;

namespace MailSink.Storage.PostgreSql;

/// <summary>The <c>contents</c> row of one SMTP transaction: what its inbox copies share.</summary>
internal static class ContentRow
{
    /// <summary>The insert of <paramref name="write"/>'s content, with everything search needs folded (<see cref="TextFold"/>).</summary>
    public static NpgsqlBatchCommand Insert(PendingWrite write)
    {
        var message = write.Messages[0];
        var command = new NpgsqlBatchCommand(
            "INSERT INTO contents (id, refs, size, raw, raw_compressed, summary, detail, subject_fold, senders_fold, recipients_fold, body_fold)"
            + " VALUES (@id, @refs, @size, @raw, @compressed, @summary, @detail, @subject, @senders, @recipients, @body)");
        var p = command.Parameters;
        p.AddWithValue("id", write.RawId);
        p.AddWithValue("refs", write.Messages.Count);
        p.AddWithValue("size", message.Size);
        p.Add(new NpgsqlParameter("raw", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = write.Raw.Chunks.Select(c => c.Data).ToArray() });
        p.AddWithValue("compressed", write.Raw.Chunks.Select(c => c.Compressed).ToArray());
        p.AddWithValue("summary", ContentJson.Summary(message));
        p.AddWithValue("detail", ContentJson.Detail(message));
        p.AddWithValue("subject", TextFold.Fold(message.Subject));
        var facts = Search.SearchFacts.Of(message);
        p.AddWithValue("senders", facts.Senders.Select(TextFold.Fold).Distinct(StringComparer.Ordinal).ToArray());
        p.AddWithValue("recipients", facts.Recipients.Select(TextFold.Fold).Distinct(StringComparer.Ordinal).ToArray());
        p.AddWithValue("body", TextFold.FoldBodies(message.Text, message.Html));
        return command;
    }

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
