namespace MailSink.Storage;

/// <summary>One SMTP transaction waiting for the writer: its raw bytes once, and one message per inbox.</summary>
internal sealed class PendingWrite(string rawId, RawMessage raw, IReadOnlyList<StoredMessage> messages)
{
    public string RawId { get; } = rawId;

    public RawMessage Raw { get; } = raw;

    public IReadOnlyList<StoredMessage> Messages { get; } = messages;

    public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
