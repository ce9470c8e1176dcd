using LiteDB;
using MailSink.Storage.Retention;

namespace MailSink.Storage.LiteDb;

/// <summary>
/// Retention: removal of the oldest messages, in short transactions of at most <see cref="RetentionBatch"/>
/// so that ingest is never held up for long, and the stored bytes that <c>MaxTotalBytes</c> caps.
/// </summary>
internal sealed partial class LiteDbStore : IRetentionStore
{
    private const int RetentionBatch = 500;

    // Bytes stored: raw chunks as stored and every message and content document as LiteDB serialises it.
    // Only the size cap needs it, so it is summed on first use (reading every document once) and kept
    // current after that; start-up and writes pay nothing for it otherwise. Null: not summed yet.
    private long? _storedBytes;
    private long _lastCheckpoint;

    /// <summary>
    /// What the store takes: raw messages as stored (compressed) and the documents of messages and of
    /// what their copies share. Raw bytes alone hid the parsed documents: 1,000 inbox copies of a message
    /// with 1,000 long links took 1.2 GB while its raw bytes were under 1 MB.
    /// </summary>
    internal long StoredBytes => Guarded(() => _storedBytes ??=
        _raw.FindAll().Sum(d => (long)d["data"].AsBinary.Length)
        + _messageDocuments.FindAll().Sum(d => (long)d.StoredLength())
        + _contentDocuments.FindAll().Sum(d => (long)d.StoredLength()));

    public Task<long> StoredBytesAsync(CancellationToken cancellationToken) => Task.FromResult(StoredBytes);

    public Task<int> ApplyRetentionAsync(IRetentionLimits limits, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var removed = 0;
        if (limits.MaxMessagesPerInbox > 0)
        {
            foreach (var inbox in Guarded(() => _inboxes.Find(Query.GT("Messages", limits.MaxMessagesPerInbox)).Select(i => i.Id).ToList()))
            {
                int n;
                while ((n = TrimInbox(inbox, limits.MaxMessagesPerInbox, RetentionBatch)) > 0)
                    removed += n;
            }
        }

        if (limits.MaxAge > TimeSpan.Zero)
        {
            int n;
            while ((n = DeleteOlderThan(now - limits.MaxAge, RetentionBatch)) > 0)
                removed += n;
        }

        if (limits.MaxTotalBytes > 0)
        {
            // Small steps: a message can be large, and only the excess should go.
            while (StoredBytes is var stored && stored > limits.MaxTotalBytes
                   && DeleteOldest(RetentionSteps.OldestToRemove(stored - limits.MaxTotalBytes, stored, MessageCount())) is var n and > 0)
                removed += n;
        }

        // Fold the log into the data file now and then, so that freed pages are reused and the log stays small.
        if (removed > 0 && _time.GetTimestamp() - _lastCheckpoint > _time.TimestampFrequency * 10)
        {
            Checkpoint();
            _lastCheckpoint = _time.GetTimestamp();
        }

        return Task.FromResult(removed);
    }

    /// <summary>How many messages the store holds, from the inbox counters; <paramref name="isUse"/> as in <see cref="Guarded"/>.</summary>
    private long MessageCount(bool isUse = true) => Guarded(() => _inboxes.FindAll().Sum(i => i.Messages), isUse);

    /// <summary>Writes the log into the data file, so that freed pages are reused and the log is emptied.</summary>
    internal void Checkpoint() => Guarded(() => _db.Checkpoint());

    /// <summary>Deletes up to <paramref name="limit"/> of an inbox's oldest messages beyond <paramref name="keep"/>.</summary>
    internal int TrimInbox(string inbox, long keep, int limit) =>
        Guarded(() =>
        {
            var record = FindById(_inboxes, inbox);
            if (record is null || record.Messages <= keep)
                return 0;
            var excess = (int)Math.Min(record.Messages - keep, limit);
            return RemoveAllLocked(DocumentsLocked(_messageDocuments.Query().Where(InboxRange(inbox)).OrderBy("Key").Limit(excess)));
        });

    /// <summary>Deletes up to <paramref name="limit"/> messages received before <paramref name="before"/>, oldest of each inbox first.</summary>
    internal int DeleteOlderThan(DateTimeOffset before, int limit) =>
        Guarded(() =>
        {
            var old = new List<Sized>();
            foreach (var inbox in _inboxes.Find(Query.GT("Messages", 0L)).Select(i => i.Id))
            {
                if (old.Count >= limit)
                    break;
                var high = MessageDocument.MakeKey(inbox, before.UtcTicks - 1);
                old.AddRange(DocumentsLocked(_messageDocuments.Query().Where(InboxRange(inbox + "/", high)).OrderBy("Key").Limit(limit - old.Count)));
            }

            return RemoveAllLocked(old);
        });

    /// <summary>Deletes up to <paramref name="limit"/> of the oldest messages across every inbox.</summary>
    internal int DeleteOldest(int limit) =>
        Guarded(() =>
        {
            // The oldest of the store are among the oldest of each inbox (the key index gives those cheaply).
            var oldest = _inboxes.Find(Query.GT("Messages", 0L))
                .SelectMany(i => DocumentsLocked(_messageDocuments.Query().Where(InboxRange(i.Id)).OrderBy("Key").Limit(limit)))
                .OrderBy(c => c.Document.ToMessage().ReceivedTicks)
                .Take(limit)
                .ToList();
            return RemoveAllLocked(oldest);
        });

    private int RemoveAllLocked(List<Sized> copies)
    {
        if (copies.Count == 0)
            return 0;
        var byInbox = copies.GroupBy(c => InboxOf(c.Document)).ToList();
        InTransaction(() =>
        {
            foreach (var copy in copies)
                RemoveLocked(copy);
            foreach (var group in byInbox)
                AdjustCount(group.Key, -group.Count());
        });
        foreach (var group in byInbox)
            _index.Removed(group.Key, group.Select(c => c.Document.Id).ToList());
        return copies.Count;
    }

    /// <summary>
    /// Databases written before raw messages could live in their documents had indexes on <c>RawId</c>
    /// (to find the copies sharing a raw message) and <c>ReceivedTicks</c> (for retention). Each cost a
    /// page write per commit; the copies are now listed in <see cref="MessageDocument.Copies"/> and
    /// retention walks the inbox+time key. This records the copies once, then drops both indexes.
    /// </summary>
    private void UpgradeFromRawIdIndex()
    {
        var indexes = _db.GetCollection("$indexes").Find(Query.EQ("collection", "messages")).Select(i => i["name"].AsString).ToHashSet();
        if (indexes.Contains("RawId"))
        {
            _db.BeginTrans();
            var shared = _messages.Query().OrderBy(m => m.RawId).ToEnumerable()
                .Where(m => m.RawData is null)
                .GroupBy(m => m.RawId)
                .Where(g => g.Count() > 1)
                .ToList();
            foreach (var copies in shared)
            {
                foreach (var message in copies)
                {
                    message.Copies = copies.Where(c => c.Id != message.Id).Select(c => c.Id).ToList();
                    _messages.Update(message);
                }
            }

            _db.Commit();
            _messages.DropIndex("RawId");
        }

        if (indexes.Contains("ReceivedTicks"))
            _messages.DropIndex("ReceivedTicks");
    }
}
