using LiteDB;

namespace MailSink.Storage;

/// <summary>Search, deletes and inboxes (Mailosaur "servers").</summary>
public sealed partial class MessageRepository
{
    /// <summary>
    /// One inbox's messages matching the criteria, newest first. Senders, recipients and subjects are
    /// matched in memory (<see cref="SearchIndex"/>); so are bodies kept there. A message is read only when
    /// it matches, or when the answer depends on a body not kept in memory (then its raw message is read and
    /// parsed, and its bodies are kept). The scan itself runs outside the database's gate, which it takes
    /// for each read only, so a long scan never holds up mail being stored or other API calls.
    /// </summary>
    public IReadOnlyList<StoredMessage> Search(
        string inbox, SearchCriteria criteria, int skip, int take, DateTimeOffset? receivedAfter = null, CancellationToken cancellationToken = default)
    {
        var facts = _index.TrySnapshot(inbox) ?? Guarded(() => _index.Snapshot(inbox, () => LoadInbox(inbox)));
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
            if (Guarded(() => MessageById(candidate.Id)) is not { } message)
                continue; // deleted meanwhile
            if (content is not null)
                SetContent(message, content); // read for the body search: the full answer need not read it again
            results.Add(message);
        }

        return results;
    }

    /// <summary>Called before each message a search looks at, outside the gate (tests look in there).</summary>
    internal Action<SearchFacts>? BetweenSearchSteps { get; set; }

    /// <summary>
    /// <see cref="Search"/>, with searches by body taking turns: a body search may have to read every
    /// message of the inbox, and one at a time leaves the other core to mail and to the other API calls.
    /// A search waiting its turn holds no thread.
    /// </summary>
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

    private readonly SemaphoreSlim _bodySearches = new(1, 1);

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
        var (message, chunks) = Guarded<(StoredMessage?, byte[]?)>(() =>
        {
            if (_messageDocuments.Query().Where(ById(id)).Select(_rawFields).FirstOrDefault() is not { } fields)
                return (null, null);
            var located = new StoredMessage
            {
                Id = id,
                RawId = fields["RawId"].IsString ? fields["RawId"].AsString : "",
                RawData = fields["RawData"].IsBinary ? fields["RawData"].AsBinary : null,
                Size = fields["Size"].AsInt64,
            };
            return (located, ChunksLocked(located));
        });
        return message is null ? null : Unpacked(message, chunks);
    }

    private IEnumerable<StoredMessage> LoadInbox(string inbox)
    {
        return _messages.Query().Where(InboxRange(inbox)).OrderBy(m => m.Key).ToEnumerable();
    }


    /// <summary>The message holding this attachment, and the attachment.</summary>
    public (StoredMessage Message, StoredAttachment Attachment)? FindAttachment(string attachmentId) =>
        Guarded(() => FindAttachmentLocked(attachmentId));

    private (StoredMessage Message, StoredAttachment Attachment)? FindAttachmentLocked(string attachmentId)
    {
        var link = FindById(_attachments, attachmentId);
        var message = link is null ? null : MessageById(link["message"].AsString);
        var attachment = message?.Attachments.FirstOrDefault(a => a.Id == attachmentId);
        return attachment is null ? null : (message!, attachment);
    }

    /// <summary>Deletes one message (and its raw bytes when no other inbox copy uses them); false when unknown.</summary>
    public bool DeleteMessage(string id)
    {
        return Guarded(() =>
        {
            var message = MessageById(id);
            if (message is null)
                return false;
            InTransaction(() =>
            {
                RemoveMessage(message);
                AdjustCount(message.Inbox, -1);
            });
            _index.Removed(message.Inbox, [message.Id]);
            return true;
        });
    }

    /// <summary>Deletes every message of an inbox; the inbox itself stays. Returns how many went.</summary>
    public int DeleteInboxMessages(string inbox)
    {
        return Guarded(() =>
        {
            var messages = _messages.Query().Where(InboxRange(inbox)).ToList();
            InTransaction(() =>
            {
                foreach (var message in messages)
                    RemoveMessage(message);
                ForgetInboxRecord(inbox);
                if (FindById(_inboxes, inbox) is { } record)
                {
                    record.Messages = 0;
                    _inboxes.Update(record);
                }
            });
            _index.Removed(inbox, messages.Select(m => m.Id).ToList());
            return messages.Count;
        });
    }

    private void RemoveMessage(StoredMessage message)
    {
        _messages.Delete(message.Id);
        foreach (var attachment in message.Attachments)
            _attachments.Delete(attachment.Id);
        if (message.RawData is not null)
            _totalRawBytes -= message.Size;
        else if (!message.Copies.Any(id => MessageById(id) is not null))
            DeleteRaw(message.RawId); // the last copy takes the shared raw message with it
    }

    private void DeleteRaw(string rawId)
    {
        var first = FindById(_raw, rawId);
        if (first is null)
            return;
        var chunks = first["n"].AsInt32;
        _totalRawBytes -= first["size"].IsNull ? first["data"].AsBinary.Length : first["size"].AsInt32;
        _raw.Delete(rawId);
        for (var i = 1; i < chunks; i++)
            _raw.Delete(ChunkId(rawId, i));
    }

    private void AdjustCount(string inbox, long delta)
    {
        ForgetInboxRecord(inbox);
        if (FindById(_inboxes, inbox) is { } record)
        {
            record.Messages = Math.Max(0, record.Messages + delta);
            _inboxes.Update(record);
        }
    }

    public IReadOnlyList<InboxRecord> ListInboxes() =>
        Guarded(() => _inboxes.FindAll().OrderBy(i => i.CreatedTicks).ThenBy(i => i.Id).ToList());

    public InboxRecord? FindInbox(string id) =>
        Guarded(() => FindById(_inboxes, id));

    /// <summary>Creates an inbox with a new random 8-character id (what Mailosaur's clients expect).</summary>
    public InboxRecord CreateInbox(string name, DateTimeOffset now)
    {
        return Guarded(() =>
        {
            while (true)
            {
                var id = NewInboxId();
                if (FindById(_inboxes, id) is not null)
                    continue;
                var record = new InboxRecord { Id = id, Name = name, CreatedTicks = now.UtcTicks };
                ForgetInboxRecord(id);
                _inboxes.Insert(record);
                return record;
            }
        });
    }

    public InboxRecord? RenameInbox(string id, string name)
    {
        return Guarded(() =>
        {
            ForgetInboxRecord(id);
            var record = FindById(_inboxes, id);
            if (record is null)
                return null;
            record.Name = name;
            _inboxes.Update(record);
            return record;
        });
    }

    /// <summary>Deletes an inbox and all its messages.</summary>
    public bool DeleteInbox(string id)
    {
        if (FindInbox(id) is null)
            return false;
        DeleteInboxMessages(id);
        _index.Forget(id);
        return Guarded(() =>
        {
            ForgetInboxRecord(id);
            return _inboxes.Delete(id);
        });
    }

    private void InTransaction(Action action)
    {
        if (!_db.BeginTrans())
            throw new InvalidOperationException("A storage transaction is already open on this thread.");
        var rawBytesBefore = _totalRawBytes;
        try
        {
            action();
            _db.Commit();
        }
        catch
        {
            _totalRawBytes = rawBytesBefore;
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

    private static string NewInboxId()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        return string.Create(8, 0, (span, _) =>
        {
            for (var i = 0; i < span.Length; i++)
                span[i] = alphabet[System.Security.Cryptography.RandomNumberGenerator.GetInt32(alphabet.Length)];
        });
    }
}
