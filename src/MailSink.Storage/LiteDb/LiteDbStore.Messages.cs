using LiteDB;
using MailSink.Storage.Ingest;
using MailSink.Storage.Mime;

namespace MailSink.Storage.LiteDb;

/// <summary>Messages read through the seam: lists, whole messages, raw bytes, attachments.</summary>
internal sealed partial class LiteDbStore : IMessageRepository
{
    // What a listing shows: LiteDB then skips a document's links, images, codes and envelope instead of
    // building them (a message with a link on each line has hundreds).
    private readonly BsonExpression _summaryFields = BsonExpression.Create(
        "{ _id: $._id, Key: $.Key, Subject: $.Subject, From: $.From, To: $.To, Cc: $.Cc, Bcc: $.Bcc, Summary: $.Summary, Attachments: $.Attachments, Content: $.Content, AttachmentIds: $.AttachmentIds }");

    private readonly BsonExpression _contentSummaryFields = BsonExpression.Create(
        "{ _id: $._id, Subject: $.Subject, From: $.From, To: $.To, Cc: $.Cc, Bcc: $.Bcc, Summary: $.Summary, Attachments: $.Attachments }");

    public Task<IReadOnlyList<StoredMessage>> ListAsync(
        string inbox, int skip, int take, DateTimeOffset? receivedAfter, CancellationToken cancellationToken, bool oldestFirst = false) =>
        UseAsync<IReadOnlyList<StoredMessage>>(() =>
        {
            var query = _messageDocuments.Query().Where(InboxRange(inbox, receivedAfter));
            var copies = (oldestFirst ? query.OrderBy("Key") : query.OrderByDescending("Key"))
                .Select(_summaryFields)
                .Skip(skip)
                .Limit(take)
                .ToEnumerable()
                .Select(Projected)
                .ToList();
            return copies.Select(copy => copy.ToMessage(copy.Content is null ? null : ProjectedContent(copy.Content))).ToList();
        }, cancellationToken);

    /// <summary>A projection names a field the document left out (it held its default) as null: leave it out again.</summary>
    private MessageDocument Projected(BsonValue projected) =>
        _db.Mapper.ToObject<MessageDocument>(DocumentMapper.Without(projected.AsDocument, field => field.Value.IsNull));

    private MessageDocument ProjectedContent(string id) =>
        _contents.Query().Where(ById(id)).Select(_contentSummaryFields).ToEnumerable().Select(Projected).FirstOrDefault()
        ?? throw new InvalidDataException($"The shared content {id} is missing.");

    public async Task<StoredMessage?> GetAsync(string id, CancellationToken cancellationToken)
    {
        // Found and read under the gate; unpacked and parsed after it, so that other uses need not wait for that.
        if (await UseAsync(() => ReadLocked(id), cancellationToken) is not { } read)
            return null;
        var message = read.Found.Copy.ToMessage(read.Found.Content);
        message.SetContent(MessageParser.ReadContent(read.Raw()));
        return message;
    }

    public async Task<byte[]?> GetRawAsync(string id, CancellationToken cancellationToken) =>
        await UseAsync(() => ReadLocked(id), cancellationToken) is { } read ? read.Raw() : null;

    public async Task<AttachmentFile?> GetAttachmentAsync(string attachmentId, CancellationToken cancellationToken)
    {
        var read = await UseAsync(() => FindById(_attachments, attachmentId) is { } link ? ReadLocked(link["message"].AsString) : null, cancellationToken);
        var attachment = read?.Found.Copy.ToMessage(read.Value.Found.Content).Attachments.FirstOrDefault(a => a.Id == attachmentId);
        if (attachment is null || MessageParser.FindPart(read!.Value.Raw(), attachment.PartIndex, attachment.ContentType) is not { } part)
            return null;
        using var decoded = new MemoryStream();
        MessageParser.WriteAttachment(part, decoded);
        return new AttachmentFile(attachment, decoded.ToArray());
    }

    /// <summary>A message's documents and what of its raw message had to be read from <c>raw</c>.</summary>
    private readonly record struct Read(Found Found, byte[]? Chunks)
    {
        /// <summary>The raw message, unpacked (after the gate) from its document or from the chunks read.</summary>
        public byte[] Raw() => Unpacked(Found.Holder, Chunks);
    }

    /// <summary>The message's documents and raw chunks, or null when it is unknown. Under the gate.</summary>
    private Read? ReadLocked(string id) => FindLocked(id) is { } found ? new Read(found, RawChunksLocked(found.Holder)) : null;

    /// <summary>A message copy and, when it shares them, its parsed fields and raw message.</summary>
    private readonly record struct Found(MessageDocument Copy, MessageDocument? Content)
    {
        /// <summary>The document that holds (or points to) the raw message.</summary>
        public MessageDocument Holder => Content ?? Copy;
    }

    /// <summary>The message's documents, or null when it is unknown. Under the gate.</summary>
    private Found? FindLocked(string id)
    {
        if (FindById(_messages, id) is not { } copy)
            return null;
        if (copy.Content is null)
            return new Found(copy, null);
        return new Found(copy, FindById(_contents, copy.Content) ?? throw new InvalidDataException($"Message {id} lacks its shared content {copy.Content}."));
    }

    /// <summary>What of a raw message needs the database: its chunks in <c>raw</c>, when its document does not hold it. Under the gate.</summary>
    private byte[]? RawChunksLocked(MessageDocument holder) => holder.RawData is null ? ReadRawLocked(holder.RawId) : null;

    /// <summary>The raw message, from what <see cref="RawChunksLocked"/> read or from the document (unpacked here, after the gate).</summary>
    private static byte[] Unpacked(MessageDocument holder, byte[]? chunks) =>
        holder.RawData is { } data
            ? RawMessage.Unpack(data, holder.RawCompressed, holder.Size, holder.Id)
            : chunks ?? throw new InvalidDataException($"The raw message {holder.RawId} of {holder.Id} is missing.");

    private byte[]? ReadRawLocked(string rawId)
    {
        var first = FindById(_raw, rawId);
        if (first is null)
            return null;
        var chunks = first["n"].AsInt32;
        var raw = new byte[first["size"].AsInt32];
        var at = UnpackChunk(first, raw, 0);
        for (var i = 1; i < chunks; i++)
            at += UnpackChunk(FindById(_raw, ChunkId(rawId, i)) ?? throw new InvalidDataException($"Raw message {rawId} lacks its chunk {i}."), raw, at);
        if (at != raw.Length)
            throw new InvalidDataException($"Raw message {rawId} holds {at} bytes, not the {raw.Length} recorded.");
        return raw;
    }

    /// <summary>Writes one stored chunk's bytes, as received, into <paramref name="destination"/> at <paramref name="offset"/>; returns how many.</summary>
    internal static int UnpackChunk(BsonDocument chunk, byte[] destination, int offset)
    {
        var compression = chunk["z"];
        if (!compression.IsNull && compression.AsInt32 != RawMessage.Brotli)
            throw new InvalidDataException($"Raw chunk {chunk["_id"].AsString} has an unknown compression (z = {compression}).");
        return RawMessage.Unpack(chunk["data"].AsBinary, !compression.IsNull, destination.AsSpan(offset), chunk["_id"].AsString);
    }

    /// <summary>
    /// One inbox's keys as an index range. (A "Key >= low AND Key &lt; high" filter made LiteDB scan the
    /// index from its far end when ordering newest first, loading every later inbox's documents on the way.)
    /// Keys always hold a '/' after the inbox, so the inclusive upper bound <c>inbox + "0"</c> is never a key.
    /// </summary>
    private static BsonExpression InboxRange(string low, string high) => Query.Between("Key", low, high);

    /// <summary>One inbox's keys, or those received after <paramref name="receivedAfter"/>, as an index range.</summary>
    private static BsonExpression InboxRange(string inbox, DateTimeOffset? receivedAfter = null) => InboxRange(
        receivedAfter is { } after ? MessageDocument.MakeKey(inbox, after.UtcTicks + 1) : inbox + "/",
        inbox + "0"); // '0' sorts right after '/'
}
