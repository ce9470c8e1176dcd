using System.Collections.Concurrent;

namespace MailSink.Storage;

/// <summary>
/// The search facts of every message of the inboxes that have been searched, in memory, oldest first.
/// An inbox is loaded from the database on its first search; after that the writer adds each committed
/// message and deletes remove theirs, so searching by sender, recipient or subject scans memory, not
/// documents. Adding never blocks the writer behind a load: arrivals during a load wait in a queue.
/// </summary>
/// <remarks>
/// Bodies are kept beside the facts within a budget of <c>bodyBudget</c> bytes, so that a body search
/// reads memory rather than parsing each raw message again: an arrival's bodies, which ingest has just
/// decoded, cost nothing to keep, and a body search keeps those it had to read. Past the budget the
/// bodies kept longest ago are let go first (a search reads them again when it needs them).
/// </remarks>
internal sealed class SearchIndex(long bodyBudget)
{
    private readonly ConcurrentDictionary<string, Entries> _inboxes = new(StringComparer.Ordinal);
    // The facts whose bodies are kept, in the order they were kept; under _keptGate. An entry whose bodies
    // were let go otherwise (a delete) stays until it comes up or the queue is compacted.
    private readonly Queue<SearchFacts> _kept = new();
    private readonly Lock _keptGate = new();
    private long _keptBytes;
    private int _keptCount;

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

    /// <summary>Bytes of bodies kept in memory now (never more than the budget once a keep returns).</summary>
    public long KeptBodyBytes => Interlocked.Read(ref _keptBytes);

    /// <summary>Entries of the keeping order, those let go by deletes included (for tests: it must stay bounded).</summary>
    internal int KeptQueueLength
    {
        get
        {
            lock (_keptGate)
                return _kept.Count;
        }
    }

    /// <summary>The inbox's facts, oldest first, when they are loaded; null when the first search must load them.</summary>
    public SearchFacts[]? TrySnapshot(string inbox)
    {
        if (!_inboxes.TryGetValue(inbox, out var entries) || !entries.Loaded)
            return null;
        lock (entries.Gate)
        {
            entries.MergePending();
            return [.. entries.Items];
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

    /// <summary>
    /// Called after a commit with the messages as ingest made them, bodies included; never waits for a
    /// load in progress.
    /// </summary>
    public void Added(IEnumerable<StoredMessage> messages)
    {
        foreach (var message in messages)
        {
            if (!_inboxes.TryGetValue(message.Inbox, out var entries))
                continue; // never searched: its first search reads it from the database
            var facts = SearchFacts.Of(message);
            KeepBodies(facts, message.Text, message.Html);
            entries.Pending.Enqueue(facts);
            if (entries.Loaded)
            {
                lock (entries.Gate)
                    entries.MergePending();
            }
        }
    }

    /// <summary>Keeps a message's bodies beside its facts, within the budget; the bodies kept longest ago make room.</summary>
    public void KeepBodies(SearchFacts facts, string? text, string? html)
    {
        var bodies = new SearchBodies(text, html);
        if (bodies.Bytes > bodyBudget / 4)
            return; // one message may not take the room of many
        lock (_keptGate)
        {
            if (!facts.TryKeep(bodies))
                return; // another search kept them first
            Interlocked.Add(ref _keptBytes, bodies.Bytes);
            _keptCount++;
            _kept.Enqueue(facts);
            while (_keptBytes > bodyBudget && _kept.TryDequeue(out var oldest))
                LetGoLocked(oldest);
            if (_kept.Count > 1024 + 2 * _keptCount)
            {
                // Mostly entries that deletes let go: keep the queue in proportion to what it holds.
                var live = _kept.Where(f => f.Bodies is not null).ToList();
                _kept.Clear();
                foreach (var f in live)
                    _kept.Enqueue(f);
            }
        }
    }

    private void LetGo(SearchFacts facts)
    {
        lock (_keptGate)
            LetGoLocked(facts);
    }

    private void LetGoLocked(SearchFacts facts)
    {
        if (facts.Release() is not { } bodies)
            return;
        Interlocked.Add(ref _keptBytes, -bodies.Bytes);
        _keptCount--;
    }

    public void Removed(string inbox, IReadOnlyCollection<string> ids)
    {
        if (!_inboxes.TryGetValue(inbox, out var entries))
            return;
        var gone = ids.ToHashSet(StringComparer.Ordinal);
        lock (entries.Gate)
        {
            entries.MergePending();
            foreach (var facts in entries.Items.Where(f => gone.Contains(f.Id)))
                LetGo(facts);
            entries.Items.RemoveAll(f => gone.Contains(f.Id));
        }
    }

    /// <summary>Forgets every inbox and body (after the database was opened again); each is loaded again on its next search.</summary>
    public void ForgetAll()
    {
        _inboxes.Clear();
        lock (_keptGate)
        {
            while (_kept.TryDequeue(out var facts))
                LetGoLocked(facts);
        }
    }

    /// <summary>Forgets an inbox and its bodies; it is loaded again on its next search.</summary>
    public void Forget(string inbox)
    {
        if (!_inboxes.TryRemove(inbox, out var entries))
            return;
        lock (entries.Gate)
        {
            entries.MergePending();
            foreach (var facts in entries.Items)
                LetGo(facts);
        }
    }
}
