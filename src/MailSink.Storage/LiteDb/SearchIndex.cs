using System.Collections.Concurrent;
using MailSink.Storage.Search;

namespace MailSink.Storage.LiteDb;

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

        /// <summary>Set under <see cref="Gate"/> when the inbox is forgotten: what is still added to it is retired.</summary>
        public bool Forgotten;

        /// <summary>Moves queued arrivals newer than what is loaded into the list. Under <see cref="Gate"/>.</summary>
        public void MergePending()
        {
            var last = Items.Count == 0 ? long.MinValue : Items[^1].Ticks;
            while (Pending.TryDequeue(out var facts))
            {
                if (facts.Ticks > last && !Forgotten)
                {
                    Items.Add(facts);
                    facts.Indexed = true;
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
                foreach (var facts in entries.Items)
                    facts.Indexed = true;
                entries.Loaded = true;
            }

            entries.MergePending();
            return [.. entries.Items];
        }
    }

    /// <summary>
    /// Called after a commit with the messages as ingest made them, bodies included; never waits for a
    /// load in progress. The bodies of an arrival are kept when it joined its inbox's list (not while the
    /// inbox's first load runs: that search reads them).
    /// </summary>
    public void Added(IEnumerable<StoredMessage> messages)
    {
        foreach (var message in messages)
        {
            if (!_inboxes.TryGetValue(message.Inbox, out var entries))
                continue; // never searched: its first search reads it from the database
            var facts = SearchFacts.Of(message);
            entries.Pending.Enqueue(facts);
            if (!entries.Loaded)
                continue;
            lock (entries.Gate)
                entries.MergePending();
            if (facts.Indexed)
                KeepBodies(facts, message.Text, message.Html, makeRoom: true);
        }
    }

    /// <summary>
    /// Keeps a message's bodies beside its facts, within the budget. An arrival makes room by letting go of
    /// the bodies kept longest ago (new mail is what tests look for); bodies a search had to read are kept
    /// only in room that is free, so that a search through an inbox larger than the budget does not push
    /// out, message by message, what the next search reads first.
    /// </summary>
    public void KeepBodies(SearchFacts facts, string? text, string? html, bool makeRoom)
    {
        if (bodyBudget == 0 || facts.Bodies is not null)
            return;
        var bodies = new SearchBodies(text, html);
        if (bodies.Bytes > bodyBudget / 4)
            return; // one message may not take the room of many
        lock (_keptGate)
        {
            if (facts.Retired || facts.Bodies is not null)
                return; // deleted or forgotten meanwhile, or another search kept them first
            if (!makeRoom && _keptBytes + bodies.Bytes > bodyBudget)
                return;
            facts.Exchange(bodies);
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

    private void LetGoLocked(SearchFacts facts)
    {
        if (facts.Exchange(null) is not { } bodies)
            return;
        Interlocked.Add(ref _keptBytes, -bodies.Bytes);
        _keptCount--;
    }

    /// <summary>Lets go of the facts' bodies for good: a search that read the message before keeps nothing for it.</summary>
    private void Retire(IEnumerable<SearchFacts> facts)
    {
        lock (_keptGate)
        {
            foreach (var f in facts)
            {
                f.Retired = true;
                LetGoLocked(f);
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
            Retire(entries.Items.Where(f => gone.Contains(f.Id)));
            entries.Items.RemoveAll(f => gone.Contains(f.Id));
        }
    }

    /// <summary>Marks an inbox removed from the index as forgotten and retires all it holds. Under nothing.</summary>
    private void Forgotten(Entries entries)
    {
        lock (entries.Gate)
        {
            entries.Forgotten = true;
            entries.MergePending(); // retires nothing itself: a forgotten list takes no more
            Retire(entries.Items);
        }
    }

    /// <summary>Forgets every inbox and body (after the database was opened again); each is loaded again on its next search.</summary>
    public void ForgetAll()
    {
        foreach (var inbox in _inboxes.Keys.ToList())
        {
            if (_inboxes.TryRemove(inbox, out var entries))
                Forgotten(entries);
        }

        lock (_keptGate)
        {
            while (_kept.TryDequeue(out var facts))
                LetGoLocked(facts);
        }
    }

    /// <summary>Forgets an inbox and its bodies; it is loaded again on its next search.</summary>
    public void Forget(string inbox)
    {
        if (_inboxes.TryRemove(inbox, out var entries))
            Forgotten(entries);
    }
}
