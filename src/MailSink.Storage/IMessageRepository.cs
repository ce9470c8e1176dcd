namespace MailSink.Storage;

/// <summary>
/// The storage seam for messages: what the API, the waiter and the web UI read and delete, whichever engine
/// holds them (LiteDB in one process, PostgreSQL for several). Every call is asynchronous and honours its
/// token; an engine that cannot be reached throws <see cref="StorageUnavailableException"/>.
/// </summary>
public interface IMessageRepository
{
    /// <summary>
    /// One inbox's messages, newest first (oldest first when <paramref name="oldestFirst"/>), with what a
    /// listing shows (no bodies or headers).
    /// </summary>
    Task<IReadOnlyList<StoredMessage>> ListAsync(
        string inbox, int skip, int take, DateTimeOffset? receivedAfter, CancellationToken cancellationToken, bool oldestFirst = false);

    /// <summary>One inbox's messages matching the criteria, newest first (Mailosaur's semantics: <see cref="SearchCriteria"/>).</summary>
    Task<IReadOnlyList<StoredMessage>> SearchAsync(
        string inbox, SearchCriteria criteria, int skip, int take, DateTimeOffset? receivedAfter, CancellationToken cancellationToken);

    /// <summary>One message in full (bodies and headers read from its raw message), or null.</summary>
    Task<StoredMessage?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>A message's raw bytes, byte for byte as received, or null when it is unknown.</summary>
    Task<byte[]?> GetRawAsync(string id, CancellationToken cancellationToken);

    /// <summary>An attachment, decoded, with what its message says of it; null when unknown.</summary>
    Task<AttachmentFile?> GetAttachmentAsync(string attachmentId, CancellationToken cancellationToken);

    /// <summary>Deletes one message; false when it is unknown.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>Deletes every message of an inbox (the inbox stays); how many went.</summary>
    Task<int> DeleteAllAsync(string inbox, CancellationToken cancellationToken);
}

/// <summary>An attachment's bytes, decoded, and its description.</summary>
public sealed record AttachmentFile(StoredAttachment Attachment, byte[] Content);
