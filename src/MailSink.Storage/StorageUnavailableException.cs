namespace MailSink.Storage;

/// <summary>The database could not be opened or written; the message says what to do.</summary>
public sealed class StorageUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
