namespace MailSink.Storage.Ingest;

/// <summary>
/// One SMTP transaction waiting for its commit: its raw bytes once (packed), and one message per inbox it
/// reached, each with its bodies and headers as ingest parsed them. The engine's writer decides how the
/// caller hears of the commit (<see cref="IMessageWriter.WriteAsync"/>).
/// </summary>
public sealed class PendingWrite
{
    internal PendingWrite(string rawId, RawMessage raw, IReadOnlyList<StoredMessage> messages)
    {
        RawId = rawId;
        Raw = raw;
        Messages = messages;
    }

    /// <summary>The id of the raw message, shared by its copies.</summary>
    public string RawId { get; }

    internal RawMessage Raw { get; }

    public IReadOnlyList<StoredMessage> Messages { get; }
}
