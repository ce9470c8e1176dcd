using LiteDB;

namespace MailSink.Storage;

/// <summary>Removal of the oldest messages, in short transactions so that ingest is never held up for long.</summary>
public sealed partial class MessageRepository
{
    /// <summary>Deletes up to <paramref name="limit"/> of an inbox's oldest messages beyond <paramref name="keep"/>.</summary>
    internal int TrimInbox(string inbox, long keep, int limit)
    {
        return Guarded(() =>
        {
            var record = FindById(_inboxes, inbox);
            if (record is null || record.Messages <= keep)
                return 0;
            var excess = (int)Math.Min(record.Messages - keep, limit);
            var oldest = _messages.Query().Where(InboxRange(inbox)).OrderBy(m => m.Key).Limit(excess).ToList();
            RemoveAll(oldest);
            return oldest.Count;
        });
    }

    /// <summary>Deletes up to <paramref name="limit"/> messages received before <paramref name="before"/>, oldest of each inbox first.</summary>
    internal int DeleteOlderThan(DateTimeOffset before, int limit)
    {
        return Guarded(() =>
        {
            var old = new List<StoredMessage>();
            foreach (var inbox in _inboxes.Find(Query.GT("Messages", 0L)).Select(i => i.Id))
            {
                if (old.Count >= limit)
                    break;
                var high = StoredMessage.MakeKey(inbox, before.UtcTicks - 1);
                old.AddRange(_messages.Query().Where(InboxRange(inbox + "/", high)).OrderBy(m => m.Key).Limit(limit - old.Count).ToList());
            }

            RemoveAll(old);
            return old.Count;
        });
    }

    /// <summary>Deletes up to <paramref name="limit"/> of the oldest messages across every inbox.</summary>
    internal int DeleteOldest(int limit)
    {
        return Guarded(() =>
        {
            // The oldest of the store are among the oldest of each inbox (the key index gives those cheaply).
            var oldest = _inboxes.Find(Query.GT("Messages", 0L))
                .SelectMany(i => _messages.Query().Where(InboxRange(i.Id)).OrderBy(m => m.Key).Limit(limit).ToList())
                .OrderBy(m => m.ReceivedTicks)
                .Take(limit)
                .ToList();
            RemoveAll(oldest);
            return oldest.Count;
        });
    }

    private void RemoveAll(List<StoredMessage> messages)
    {
        if (messages.Count == 0)
            return;
        InTransaction(() =>
        {
            foreach (var message in messages)
                RemoveMessage(message);
            foreach (var group in messages.GroupBy(m => m.Inbox))
                AdjustCount(group.Key, -group.Count());
        });
        foreach (var group in messages.GroupBy(m => m.Inbox))
            _index.Removed(group.Key, group.Select(m => m.Id).ToList());
    }

    /// <summary>Writes the log into the data file, so that freed pages are reused and the log is emptied.</summary>
    internal void Checkpoint() =>
        Guarded(() => _db.Checkpoint());

    internal IReadOnlyList<string> InboxesOver(long keep) =>
        Guarded(() => _inboxes.Find(Query.GT("Messages", keep)).Select(i => i.Id).ToList());
}
