namespace MailSink.Storage;

/// <summary>The storage seam for inboxes (Mailosaur "servers"), with their message counts.</summary>
public interface IInboxRepository
{
    /// <summary>Every inbox, oldest first.</summary>
    Task<IReadOnlyList<InboxRecord>> ListAsync(CancellationToken cancellationToken);

    Task<InboxRecord?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Creates an inbox with a new random 8-character id (what Mailosaur's clients expect).</summary>
    Task<InboxRecord> CreateAsync(string name, CancellationToken cancellationToken);

    Task<InboxRecord?> RenameAsync(string id, string name, CancellationToken cancellationToken);

    /// <summary>Deletes an inbox and all its messages; false when it is unknown.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);
}
