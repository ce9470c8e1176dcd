namespace MailSink.Storage.LiteDb;

/// <summary>Inboxes (Mailosaur "servers") through the seam.</summary>
internal sealed partial class LiteDbStore : IInboxRepository
{
    Task<IReadOnlyList<InboxRecord>> IInboxRepository.ListAsync(CancellationToken cancellationToken) =>
        UseAsync<IReadOnlyList<InboxRecord>>(() => _inboxes.FindAll().OrderBy(i => i.CreatedTicks).ThenBy(i => i.Id).ToList(), cancellationToken);

    Task<InboxRecord?> IInboxRepository.GetAsync(string id, CancellationToken cancellationToken) =>
        UseAsync(() => FindById(_inboxes, id), cancellationToken);

    Task<InboxRecord> IInboxRepository.CreateAsync(string name, CancellationToken cancellationToken) =>
        UseAsync(() =>
        {
            while (true)
            {
                var id = InboxRecord.NewId();
                if (FindById(_inboxes, id) is not null)
                    continue;
                var record = new InboxRecord { Id = id, Name = name, CreatedTicks = _time.GetUtcNow().UtcTicks };
                ForgetInboxRecord(id);
                _inboxes.Insert(record);
                return record;
            }
        }, cancellationToken);

    Task<InboxRecord?> IInboxRepository.RenameAsync(string id, string name, CancellationToken cancellationToken) =>
        UseAsync(() =>
        {
            ForgetInboxRecord(id);
            var record = FindById(_inboxes, id);
            if (record is null)
                return null;
            record.Name = name;
            _inboxes.Update(record);
            return record;
        }, cancellationToken);

    Task<bool> IInboxRepository.DeleteAsync(string id, CancellationToken cancellationToken) =>
        UseAsync(() =>
        {
            if (FindById(_inboxes, id) is null)
                return false;
            DeleteAllLocked(id);
            _index.Forget(id);
            ForgetInboxRecord(id);
            return _inboxes.Delete(id);
        }, cancellationToken);
}
