using LiteDB;

namespace MailSink.Storage.LiteDb;

/// <summary>Deletes: one message, an inbox's messages, and what goes with the last copy of a message.</summary>
internal sealed partial class LiteDbStore
{
    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken) =>
        UseAsync(() =>
        {
            if (FindDocumentLocked(id) is not { } copy)
                return false;
            InTransaction(() =>
            {
                RemoveLocked(copy);
                AdjustCount(InboxOf(copy.Document), -1);
            });
            _index.Removed(InboxOf(copy.Document), [id]);
            return true;
        }, cancellationToken);

    public Task<int> DeleteAllAsync(string inbox, CancellationToken cancellationToken) =>
        UseAsync(() => DeleteAllLocked(inbox), cancellationToken);

    private int DeleteAllLocked(string inbox)
    {
        var copies = DocumentsLocked(_messageDocuments.Query().Where(InboxRange(inbox)));
        InTransaction(() =>
        {
            foreach (var copy in copies)
                RemoveLocked(copy);
            ForgetInboxRecord(inbox);
            if (FindById(_inboxes, inbox) is { } record)
            {
                record.Messages = 0;
                _inboxes.Update(record);
            }
        });
        _index.Removed(inbox, copies.Select(c => c.Document.Id).ToList());
        return copies.Count;
    }

    /// <summary>A document as stored, and its size in bytes (what <see cref="StoredBytes"/> counts).</summary>
    private readonly record struct Sized(MessageDocument Document, int Bytes);

    private Sized? FindDocumentLocked(string id) =>
        _messageDocuments.Find(ById(id)).FirstOrDefault() is { } bson ? Size(bson) : null;

    private List<Sized> DocumentsLocked(ILiteQueryableResult<BsonDocument> query) => query.ToEnumerable().Select(Size).ToList();

    private Sized Size(BsonDocument bson) =>
        new(_db.Mapper.ToObject<MessageDocument>(bson), _storedBytes is null ? 0 : bson.StoredLength());

    private static string InboxOf(MessageDocument copy) => copy.Key[..copy.Key.LastIndexOf('/')];

    /// <summary>
    /// Removes a copy with its attachment links; the last copy of a message takes its shared content and
    /// raw message along. Inside the caller's transaction.
    /// </summary>
    private void RemoveLocked(Sized copy)
    {
        var document = copy.Document;
        _messages.Delete(document.Id);
        RemoveAnalysesLocked(document.Id);
        _storedBytes -= copy.Bytes;
        foreach (var attachment in document.Content is null ? document.Attachments.Select(a => a.Id) : document.AttachmentIds)
            _attachments.Delete(attachment);

        if (document.Content is { } contentId)
        {
            if (_contentDocuments.Find(ById(contentId)).FirstOrDefault() is not { } bson)
                return;
            var shared = Size(bson);
            var content = shared.Document;
            if (content.Refs > 1)
            {
                content.Refs--;
                _contents.Update(content);
                return;
            }

            _contents.Delete(contentId);
            _storedBytes -= shared.Bytes;
            if (content.RawData is null)
                DeleteRaw(content.RawId);
        }
        else if (document.RawData is null && !document.Copies.Any(id => FindById(_messages, id) is not null))
        {
            DeleteRaw(document.RawId); // an earlier layout's copies share the raw message: the last one takes it along
        }
    }

    private void DeleteRaw(string rawId)
    {
        var first = FindById(_raw, rawId);
        if (first is null)
            return;
        var chunks = first["n"].AsInt32;
        _storedBytes -= first["data"].AsBinary.Length;
        _raw.Delete(rawId);
        for (var i = 1; i < chunks; i++)
        {
            var id = ChunkId(rawId, i);
            if (_storedBytes is not null && FindById(_raw, id) is { } chunk)
                _storedBytes -= chunk["data"].AsBinary.Length;
            _raw.Delete(id);
        }
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

    /// <summary>Drops an inbox's cached record; call before any change to it other than a commit's.</summary>
    private void ForgetInboxRecord(string inbox) => _inboxCache.Remove(inbox);
}
