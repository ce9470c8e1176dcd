using LiteDB;
using MailSink.Storage.Mime;
using MailSink.Storage.Search;

namespace MailSink.Storage.LiteDb;

/// <summary>
/// Search. Senders, recipients and subjects are matched in memory (<see cref="SearchIndex"/>); so are bodies
/// kept there. A message is read only when it matches, or when the answer depends on a body not kept in
/// memory (then its raw message is read and parsed, and its bodies are kept). The scan runs outside the
/// gate, which it takes for each read only, so a long scan never holds up mail or other API calls; body
/// searches take turns among themselves (one may read a whole inbox), waiting without a thread.
/// </summary>
internal sealed partial class LiteDbStore
{
    private readonly SemaphoreSlim _bodySearches = new(1, 1);

    // Only what finding a raw message takes: a message document also holds its links, images and
    // attachments, which a body search does not need (LiteDB then skips them instead of building them).
    private readonly BsonExpression _rawFields = BsonExpression.Create("{ RawData: $.RawData, RawId: $.RawId, Size: $.Size, Content: $.Content }");

    /// <summary>Called before each message a search looks at, outside the gate (tests look in there).</summary>
    internal Action<SearchFacts>? BetweenSearchSteps { get; set; }

    public async Task<IReadOnlyList<StoredMessage>> SearchAsync(
        string inbox, SearchCriteria criteria, int skip, int take, DateTimeOffset? receivedAfter, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(criteria.Body))
            return Search(inbox, criteria, skip, take, receivedAfter, cancellationToken);
        await _bodySearches.WaitAsync(cancellationToken);
        try
        {
            return Search(inbox, criteria, skip, take, receivedAfter, cancellationToken);
        }
        finally
        {
            _bodySearches.Release();
        }
    }

    private List<StoredMessage> Search(
        string inbox, SearchCriteria criteria, int skip, int take, DateTimeOffset? receivedAfter, CancellationToken cancellationToken)
    {
        var facts = _index.TrySnapshot(inbox) ?? Guarded(() => LoadSnapshotLocked(inbox));
        var afterTicks = receivedAfter?.UtcTicks ?? long.MinValue;
        var results = new List<StoredMessage>(Math.Min(take, 100));
        var skipped = 0;
        for (var i = facts.Length - 1; i >= 0 && results.Count < take; i--)
        {
            var candidate = facts[i];
            if (candidate.Ticks <= afterTicks)
                break;
            cancellationToken.ThrowIfCancellationRequested(); // a client gone, or a wait's time up: the scan stops
            BetweenSearchSteps?.Invoke(candidate);
            MessageContent? content = null;
            if (!criteria.Matches(candidate, () => BodyMatches(candidate, criteria, out content)))
                continue;
            if (skipped++ < skip)
                continue;
            if (Guarded(() => FindLocked(candidate.Id)) is not { } found)
                continue; // deleted meanwhile
            var message = found.Copy.ToMessage(found.Content);
            if (content is not null)
                message.SetContent(content); // read for the body search: the full answer need not read it again
            results.Add(message);
        }

        return results;
    }

    /// <summary>
    /// The inbox's search facts, loaded the first time. An inbox that does not exist gets none kept for it:
    /// a probe asking about thousands of made-up inboxes must not fill memory. Under the gate.
    /// </summary>
    private SearchFacts[] LoadSnapshotLocked(string inbox)
    {
        if (FindById(_inboxes, inbox) is null)
            return [];
        return _index.Snapshot(inbox, () => LoadInboxLocked(inbox));
    }

    private IEnumerable<StoredMessage> LoadInboxLocked(string inbox)
    {
        var contents = new Dictionary<string, MessageDocument>(StringComparer.Ordinal);
        foreach (var copy in _messages.Query().Where(InboxRange(inbox)).OrderBy(m => m.Key).ToEnumerable())
        {
            MessageDocument? content = null;
            if (copy.Content is { } id && !contents.TryGetValue(id, out content))
                contents[id] = content = FindById(_contents, id) ?? throw new InvalidDataException($"Message {copy.Id} lacks its shared content {id}.");
            yield return copy.ToMessage(content);
        }
    }

    /// <summary>Whether the message's bodies hold the criteria's body text: from memory, or read from its raw message (then kept).</summary>
    private bool BodyMatches(SearchFacts candidate, SearchCriteria criteria, out MessageContent? content)
    {
        content = null;
        if (candidate.Bodies is { } kept)
            return kept.Contain(criteria.Body!);
        if (ReadRawForSearch(candidate.Id) is not { } raw)
            return false; // deleted meanwhile
        content = MessageParser.ReadContent(raw);
        _index.KeepBodies(candidate, content.Text, content.Html, makeRoom: false);
        return criteria.BodyMatches(content.Text, content.Html);
    }

    /// <summary>A message's raw bytes, found under the gate and unpacked after it; null when it is gone.</summary>
    private byte[]? ReadRawForSearch(string id)
    {
        var read = Guarded<(MessageDocument?, byte[]?)>(() =>
        {
            if (_messageDocuments.Query().Where(ById(id)).Select(_rawFields).FirstOrDefault() is not { } fields)
                return (null, null);
            var holder = fields["Content"].IsString
                ? _contents.Query().Where(ById(fields["Content"].AsString)).Select(_rawFields).FirstOrDefault()
                : fields;
            if (holder is null)
                return (null, null);
            var located = new MessageDocument
            {
                Id = id,
                RawId = holder["RawId"].IsString ? holder["RawId"].AsString : "",
                RawData = holder["RawData"].IsBinary ? holder["RawData"].AsBinary : null,
                Size = holder["Size"].AsInt64,
            };
            return (located, RawChunksLocked(located));
        });
        return read.Item1 is { } holder ? Unpacked(holder, read.Item2) : null;
    }
}
