using LiteDB;

namespace MailSink.Storage;

/// <summary>Removal of the oldest messages, in short transactions so that ingest is never held up for long.</summary>
public sealed partial class MessageRepository
{
    /// <summary>Deletes up to <paramref name="limit"/> of an inbox's oldest messages beyond <paramref name="keep"/>.</summary>
    internal int TrimInbox(string inbox, long keep, int limit)
    {
        lock (_gate)
        {
            var record = _inboxes.FindById(inbox);
            if (record is null || record.Messages <= keep)
                return 0;
            var (low, high) = Range(inbox, null);
            var excess = (int)Math.Min(record.Messages - keep, limit);
            var oldest = _messages.Query().Where(InboxRange(low, high)).OrderBy(m => m.Key).Limit(excess).ToList();
            RemoveAll(oldest);
            return oldest.Count;
        }
    }

    /// <summary>Deletes up to <paramref name="limit"/> messages received before <paramref name="before"/>, oldest first.</summary>
    internal int DeleteOlderThan(DateTimeOffset before, int limit)
    {
        lock (_gate)
        {
            var old = _messages.Query().Where(m => m.ReceivedTicks < before.UtcTicks).OrderBy(m => m.ReceivedTicks).Limit(limit).ToList();
            RemoveAll(old);
            return old.Count;
        }
    }

    /// <summary>Deletes up to <paramref name="limit"/> of the oldest messages across every inbox.</summary>
    internal int DeleteOldest(int limit)
    {
        lock (_gate)
        {
            var oldest = _messages.Query().OrderBy(m => m.ReceivedTicks).Limit(limit).ToList();
            RemoveAll(oldest);
            return oldest.Count;
        }
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
    internal void Checkpoint()
    {
        lock (_gate)
            _db.Checkpoint();
    }

    internal IReadOnlyList<string> InboxesOver(long keep)
    {
        lock (_gate)
            return _inboxes.Find(Query.GT("Messages", keep)).Select(i => i.Id).ToList();
    }
}
