using LiteDB;

namespace MailSink.Storage;

/// <summary>Search, deletes and inboxes (Mailosaur "servers").</summary>
public sealed partial class MessageRepository
{
    /// <summary>
    /// One inbox's messages matching the criteria, newest first. Senders, recipients and subjects are
    /// matched in memory (<see cref="SearchIndex"/>); a message is read only when it matches, or when the
    /// answer depends on its body (then its raw message is read and parsed for the bodies).
    /// </summary>
    public IReadOnlyList<StoredMessage> Search(string inbox, SearchCriteria criteria, int skip, int take, DateTimeOffset? receivedAfter = null) =>
        Guarded(() => SearchLocked(inbox, criteria, skip, take, receivedAfter));

    private List<StoredMessage> SearchLocked(string inbox, SearchCriteria criteria, int skip, int take, DateTimeOffset? receivedAfter)
    {
        var facts = _index.Snapshot(inbox, () => LoadInbox(inbox));
        var afterTicks = receivedAfter?.UtcTicks ?? long.MinValue;
        var results = new List<StoredMessage>(Math.Min(take, 100));
        var skipped = 0;
        for (var i = facts.Length - 1; i >= 0 && results.Count < take; i--)
        {
            var candidate = facts[i];
            if (candidate.Ticks <= afterTicks)
                break;
            StoredMessage? message = null;
            if (!criteria.Matches(candidate, () => BodyMatches(message ??= _messages.FindById(candidate.Id), criteria)))
                continue;
            if (skipped++ < skip)
                continue;
            if ((message ??= _messages.FindById(candidate.Id)) is not null) // null: deleted meanwhile
                results.Add(message);
        }

        return results;
    }

    /// <summary>Whether the message's bodies, read from its raw bytes, hold the criteria's body text.</summary>
    private bool BodyMatches(StoredMessage? message, SearchCriteria criteria)
    {
        if (message is null)
            return false; // deleted meanwhile
        LoadContentLocked(message);
        return criteria.BodyMatches(message);
    }

    private IEnumerable<StoredMessage> LoadInbox(string inbox)
    {
        var (low, high) = Range(inbox, null);
        return _messages.Query().Where(InboxRange(low, high)).OrderBy(m => m.Key).ToEnumerable();
    }

    private static (string Low, string High) Range(string inbox, DateTimeOffset? receivedAfter) =>
        (receivedAfter is { } after ? StoredMessage.MakeKey(inbox, after.UtcTicks + 1) : inbox + "/", inbox + "0");

    /// <summary>The message holding this attachment, and the attachment.</summary>
    public (StoredMessage Message, StoredAttachment Attachment)? FindAttachment(string attachmentId) =>
        Guarded(() => FindAttachmentLocked(attachmentId));

    private (StoredMessage Message, StoredAttachment Attachment)? FindAttachmentLocked(string attachmentId)
    {
        var link = _attachments.FindById(attachmentId);
        var message = link is null ? null : _messages.FindById(link["message"].AsString);
        var attachment = message?.Attachments.FirstOrDefault(a => a.Id == attachmentId);
        return attachment is null ? null : (message!, attachment);
    }

    /// <summary>Deletes one message (and its raw bytes when no other inbox copy uses them); false when unknown.</summary>
    public bool DeleteMessage(string id)
    {
        return Guarded(() =>
        {
            var message = _messages.FindById(id);
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
            var (low, high) = Range(inbox, null);
            var messages = _messages.Query().Where(InboxRange(low, high)).ToList();
            InTransaction(() =>
            {
                foreach (var message in messages)
                    RemoveMessage(message);
                ForgetInboxRecord(inbox);
                if (_inboxes.FindById(inbox) is { } record)
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
        else if (!message.Copies.Any(id => _messages.FindById(id) is not null))
            DeleteRaw(message.RawId); // the last copy takes the shared raw message with it
    }

    private void DeleteRaw(string rawId)
    {
        var first = _raw.FindById(rawId);
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
        if (_inboxes.FindById(inbox) is { } record)
        {
            record.Messages = Math.Max(0, record.Messages + delta);
            _inboxes.Update(record);
        }
    }

    public IReadOnlyList<InboxRecord> ListInboxes() =>
        Guarded(() => _inboxes.FindAll().OrderBy(i => i.CreatedTicks).ThenBy(i => i.Id).ToList());

    public InboxRecord? FindInbox(string id) =>
        Guarded(() => _inboxes.FindById(id));

    /// <summary>Creates an inbox with a new random 8-character id (what Mailosaur's clients expect).</summary>
    public InboxRecord CreateInbox(string name, DateTimeOffset now)
    {
        return Guarded(() =>
        {
            while (true)
            {
                var id = NewInboxId();
                if (_inboxes.FindById(id) is not null)
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
            var record = _inboxes.FindById(id);
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
