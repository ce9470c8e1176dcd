using LiteDB;
using MailSink.Storage.Ingest;

namespace MailSink.Storage.LiteDb;

/// <summary>Group commits: a batch of SMTP transactions in one LiteDB transaction.</summary>
internal sealed partial class LiteDbStore
{
    private const int InboxCacheLimit = 10_000;

    // The inbox records as committed, for the writer's counter updates: looking each one up in LiteDB took
    // about a tenth of a lone message's commit. Filled by commits; every other change to an inbox record
    // drops its entry first, and a commit that fails empties it (LiteDB may have confirmed the transaction
    // before the failure), so an entry is never other than the database's.
    private readonly Dictionary<string, InboxRecord> _inboxCache = new(StringComparer.Ordinal);

    /// <summary>The newest committed receive time; commits keep times strictly increasing from it.</summary>
    internal long LastReceivedTicks { get; private set; }

    /// <summary>Inserts a batch in one transaction. Writer thread only.</summary>
    internal void Commit(IReadOnlyList<PendingWrite> batch, DateTimeOffset now)
    {
        Guarded(() => CommitLocked(batch, now));
        _index.Added(batch.SelectMany(w => w.Messages));
    }

    /// <summary>
    /// <see cref="Commit"/> if no other use of the database is under way; false, having done nothing, if one
    /// is (a caller that must not wait, such as a socket event thread, then queues the batch instead).
    /// </summary>
    internal bool TryCommit(IReadOnlyList<PendingWrite> batch, DateTimeOffset now)
    {
        if (!TryGuarded(() => CommitLocked(batch, now)))
            return false;
        _index.Added(batch.SelectMany(w => w.Messages));
        return true;
    }

    private void CommitLocked(IReadOnlyList<PendingWrite> batch, DateTimeOffset now)
    {
        var ticks = Math.Max(now.UtcTicks, LastReceivedTicks + 1);
        var counters = new Dictionary<string, (long Count, long Last)>();
        var updated = new List<InboxRecord>();

        try
        {
            InTransaction(() => InsertBatch(batch, ref ticks, counters, updated));
        }
        catch
        {
            _inboxCache.Clear();
            throw;
        }

        LastReceivedTicks = ticks - 1;
        if (_inboxCache.Count + updated.Count > InboxCacheLimit)
            _inboxCache.Clear();
        foreach (var record in updated)
            _inboxCache[record.Id] = record;
    }

    /// <summary>Inserts the batch's raw messages and messages and updates the inbox counters, inside the caller's transaction.</summary>
    private void InsertBatch(IReadOnlyList<PendingWrite> batch, ref long ticks, Dictionary<string, (long Count, long Last)> counters, List<InboxRecord> updated)
    {
        foreach (var write in batch)
        {
            var embedded = write.Raw.Embedded;
            if (!embedded)
                InsertRaw(write.RawId, write.Raw);

            // A message to several inboxes keeps what its copies share once.
            var shared = write.Messages.Count > 1;
            if (shared)
            {
                var content = MessageDocument.Of(write.Messages[0]);
                content.Id = write.RawId;
                content.Refs = write.Messages.Count;
                PlaceRaw(content, write);
                Insert(_contentDocuments, content);
            }

            foreach (var message in write.Messages)
            {
                message.ReceivedTicks = ticks++;
                MessageDocument document;
                if (shared)
                {
                    document = new MessageDocument { Content = write.RawId, AttachmentIds = message.Attachments.Select(a => a.Id).ToList() };
                }
                else
                {
                    document = MessageDocument.Of(message);
                    PlaceRaw(document, write);
                }

                document.Id = message.Id;
                document.Key = MessageDocument.MakeKey(message.Inbox, message.ReceivedTicks);
                Insert(_messageDocuments, document);
                foreach (var attachment in message.Attachments)
                    _attachments.Insert(new BsonDocument { ["_id"] = attachment.Id, ["message"] = message.Id });
                counters[message.Inbox] = counters.TryGetValue(message.Inbox, out var c)
                    ? (c.Count + 1, message.ReceivedTicks)
                    : (1, message.ReceivedTicks);
            }
        }

        foreach (var (inbox, (count, last)) in counters)
        {
            var current = _inboxCache.TryGetValue(inbox, out var cached) ? cached : FindById(_inboxes, inbox);
            var record = current is null
                ? new InboxRecord { Id = inbox, Name = inbox, CreatedTicks = last }
                : new InboxRecord { Id = inbox, Name = current.Name, CreatedTicks = current.CreatedTicks, Messages = current.Messages };
            record.Messages += count;
            record.LastReceivedTicks = last;
            if (current is null || !_inboxes.Update(record))
                _inboxes.Insert(record);
            updated.Add(record);
        }
    }

    /// <summary>The raw message in the document when it is small (compressed exactly when shorter), else where it is in <c>raw</c>.</summary>
    private static void PlaceRaw(MessageDocument document, PendingWrite write)
    {
        if (write.Raw.Embedded)
            document.RawData = write.Raw.Chunks[0].Data;
        else
            document.RawId = write.RawId;
    }

    /// <summary>
    /// Inserts a document as <see cref="MessageBson"/> writes it (what the mapper would, for less), counting its
    /// bytes when the stored total is kept (<see cref="StoredBytes"/>).
    /// </summary>
    private void Insert(ILiteCollection<BsonDocument> collection, MessageDocument document)
    {
        var bson = MessageBson.Of(document);
        if (_storedBytes is not null)
            _storedBytes += bson.StoredLength();
        collection.Insert(bson);
    }

    private void InsertRaw(string rawId, RawMessage raw)
    {
        for (var i = 0; i < raw.Chunks.Count; i++)
        {
            var chunk = raw.Chunks[i];
            var doc = new BsonDocument { ["_id"] = ChunkId(rawId, i), ["data"] = new BsonValue(chunk.Data) };
            if (chunk.Compressed)
                doc["z"] = RawMessage.Brotli;
            if (i == 0)
            {
                doc["n"] = raw.Chunks.Count;
                doc["size"] = raw.Length;
            }

            _raw.Insert(doc);
            _storedBytes += chunk.Data.Length;
        }
    }

    private static string ChunkId(string rawId, int index) => index == 0 ? rawId : $"{rawId}:{index}";

    private void InTransaction(Action action)
    {
        if (!_db.BeginTrans())
            throw new InvalidOperationException("A storage transaction is already open on this thread.");
        var storedBefore = _storedBytes;
        try
        {
            action();
            _db.Commit();
        }
        catch
        {
            _storedBytes = storedBefore;
            try
            {
                _db.Rollback();
            }
            catch (Exception ex) when (IsEngineFault(ex))
            {
                // a broken engine cannot roll back; Guarded opens the database again
            }

            throw;
        }
    }
}
