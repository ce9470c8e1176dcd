using MailSink.Storage.Ingest;

namespace MailSink.Storage;

/// <summary>
/// The storage seam for new mail: an engine commits what <see cref="MessageIngest"/> hands it, gives each
/// message its receive time (strictly increasing across the store), completes the write only once it is
/// durable, and then announces the messages on the <see cref="ArrivalFeed"/> of every process that shares
/// the store.
/// </summary>
public interface IMessageWriter
{
    /// <summary>
    /// Completes when the write is committed; faults with <see cref="StorageUnavailableException"/> when it
    /// could not be. <paramref name="alone"/>: the sender is the only SMTP session open, which an engine may
    /// use to commit at once on the caller's thread.
    /// </summary>
    Task WriteAsync(PendingWrite write, bool alone);

    /// <summary>How many batches could not be committed since start (each of their messages was refused with 451).</summary>
    int FailedBatches { get; }
}

/// <summary>Whether the store has room for new mail (a full disk refuses mail early, as Postfix's queue_minfree does).</summary>
public interface IStorageSpace
{
    /// <summary>Null when a message of <paramref name="declaredSize"/> bytes (0: unknown) may come; otherwise why not.</summary>
    string? RefuseMail(long declaredSize);
}

/// <summary>
/// A store whose disk is not MailSink's to watch (PostgreSQL's, on its own server): mail is never refused
/// early; a database that cannot write fails the commit, and the message gets 451.
/// </summary>
internal sealed class ServerManagedSpace : IStorageSpace
{
    public string? RefuseMail(long declaredSize) => null;
}
