namespace MailSink.Server.Smtp;

/// <summary>
/// What a DATA phase produced: the message (in memory, or in a temporary file when it was large or the
/// memory budget was used up), or the fact that it was over the size limit. Owns what holds the bytes
/// until disposed.
/// </summary>
internal sealed class ReceivedBody : IDisposable
{
    private readonly MessageBuffer? _buffer;

    private ReceivedBody(MessageBuffer? buffer, bool tooLarge)
    {
        _buffer = buffer;
        TooLarge = tooLarge;
    }

    public static ReceivedBody Of(MessageBuffer buffer) => new(buffer, tooLarge: false);

    public static readonly ReceivedBody OverLimit = new(null, tooLarge: true);

    public bool TooLarge { get; }

    /// <summary>The message's length in bytes (0 when too large).</summary>
    public long Length => _buffer?.Length ?? 0;

    /// <summary>Whether the bytes wait in a file (then <see cref="ToArray"/> reads them in).</summary>
    public bool Spilled => _buffer?.Spilled ?? false;

    /// <summary>The message as one exact-size array.</summary>
    public byte[] ToArray() => _buffer?.ToArray() ?? throw new InvalidOperationException("The message was over the size limit: it has no bytes.");

    public void Dispose() => _buffer?.Dispose();
}
