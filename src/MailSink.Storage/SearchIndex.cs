using System.Collections.Concurrent;

namespace MailSink.Storage;

/// <summary>
/// The search facts of every message of the inboxes that have been searched, in memory, oldest first.
/// An inbox is loaded from the database on its first search; after that the writer adds each committed
/// message and deletes remove theirs, so searching by sender, recipient or subject scans memory, not
/// documents. Adding never blocks the writer behind a load: arrivals during a load wait in a queue.
/// </summary>
internal sealed class SearchIndex
{
    private readonly ConcurrentDictionary<string, Entries> _inboxes = new(StringComparer.Ordinal);

    private sealed class Entries
    {
        public readonly Lock Gate = new();
        public readonly ConcurrentQueue<SearchFacts> Pending = new();
        public List<SearchFacts> Items = [];
        public volatile bool Loaded;

        /// <summary>Moves queued arrivals newer than what is loaded into the list. Under <see cref="Gate"/>.</summary>
        public void MergePending()
        {
            var last = Items.Count == 0 ? long.MinValue : Items[^1].Ticks;
            while (Pending.TryDequeue(out var facts))
            {
                if (facts.Ticks > last)
                {
                    Items.Add(facts);
                    last = facts.Ticks;
                }
            }
        }
    }

    /// <summary>The inbox's facts, oldest first, loading them with <paramref name="load"/> (oldest first) the first time.</summary>
    public SearchFacts[] Snapshot(string inbox, Func<IEnumerable<StoredMessage>> load)
    {
        var entries = _inboxes.GetOrAdd(inbox, _ => new Entries());
        lock (entries.Gate)
        {
            if (!entries.Loaded)
            {
                entries.Items = load().Select(SearchFacts.Of).ToList();
                entries.Loaded = true;
            }

            entries.MergePending();
            return [.. entries.Items];
        }
    }

    /// <summary>Called by the writer after a commit; never waits for a load in progress.</summary>
    public void Added(IEnumerable<StoredMessage> messages)
    {
        foreach (var message in messages)
        {
            if (!_inboxes.TryGetValue(message.Inbox, out var entries))
                continue; // never searched: its first search reads it from the database
            entries.Pending.Enqueue(SearchFacts.Of(message));
            if (entries.Loaded)
            {
                lock (entries.Gate)
                    entries.MergePending();
            }
        }
    }

    public void Removed(string inbox, IReadOnlyCollection<string> ids)
    {
        if (!_inboxes.TryGetValue(inbox, out var entries))
            return;
        var gone = ids.ToHashSet(StringComparer.Ordinal);
        lock (entries.Gate)
        {
            entries.MergePending();
            entries.Items.RemoveAll(f => gone.Contains(f.Id));
        }
    }

    /// <summary>Forgets every inbox (after the database was opened again); each is loaded again on its next search.</summary>
    public void ForgetAll() => _inboxes.Clear();

    /// <summary>Forgets an inbox; it is loaded again on its next search.</summary>
    public void Forget(string inbox) => _inboxes.TryRemove(inbox, out _);
}
