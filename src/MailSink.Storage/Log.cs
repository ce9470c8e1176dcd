using Microsoft.Extensions.Logging;

namespace MailSink.Storage;

/// <summary>Storage log events (2xxx). Never log message bodies.</summary>
internal static partial class Log
{
    [LoggerMessage(2001, LogLevel.Information, "Storage open at {Path} ({Messages} messages)")]
    public static partial void StorageOpened(ILogger logger, string path, long messages);

    [LoggerMessage(2002, LogLevel.Error, "Committing a batch of {Count} messages failed")]
    public static partial void CommitFailed(ILogger logger, int count, Exception exception);

    /// <summary>Information for a person watching, Debug beyond <see cref="Ingest.StoredMessageLog.PerSecond"/> messages in one second.</summary>
    [LoggerMessage(EventId = 2003, Message = "Stored message {MessageId} in inbox {Inbox} ({Size} bytes from {Sender})")]
    public static partial void MessageStored(ILogger logger, LogLevel level, string messageId, string inbox, long size, string sender);

    [LoggerMessage(2014, LogLevel.Information, "Stored {Count} more messages in the last second (only {PerSecond} a second are listed; log level Debug lists each)")]
    public static partial void MessagesStoredSummary(ILogger logger, int count, int perSecond);

    [LoggerMessage(2004, LogLevel.Information, "Message {MessageId} stored with a parse problem: {Problem}")]
    public static partial void MessageParseProblem(ILogger logger, string messageId, string problem);

    [LoggerMessage(2005, LogLevel.Information, "Storage closed: every queued message committed")]
    public static partial void StorageClosed(ILogger logger);

    [LoggerMessage(2006, LogLevel.Information, "Retention removed {Count} messages; {Bytes} bytes stored remain")]
    public static partial void RetentionRemoved(ILogger logger, int count, long bytes);

    [LoggerMessage(2007, LogLevel.Error, "A retention pass failed; retrying after the interval")]
    public static partial void RetentionFailed(ILogger logger, Exception exception);

    [LoggerMessage(2008, LogLevel.Error, "The database failed inside LiteDB; closing it and opening it again")]
    public static partial void StorageReopening(ILogger logger, Exception exception);

    [LoggerMessage(2009, LogLevel.Warning, "Storage open again at {Path} after a fault")]
    public static partial void StorageReopened(ILogger logger, string path);

    [LoggerMessage(2010, LogLevel.Critical, "The database {Path} could not be opened again after a fault; the next use tries again")]
    public static partial void StorageReopenFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(2011, LogLevel.Warning, "Releasing the idle database's memory failed")]
    public static partial void IdleReleaseFailed(ILogger logger, Exception exception);

    [LoggerMessage(2012, LogLevel.Warning, "Closing the database file {Path} failed")]
    public static partial void FileCloseFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(2013, LogLevel.Warning, "The disk is full: gave back the reserve {Path} so that the database can open and mail can be deleted; new mail is refused until there is room")]
    public static partial void ReserveReleased(ILogger logger, string path);
}
