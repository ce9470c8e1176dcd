namespace MailSink.Server.Smtp;

/// <summary>
/// The envelope of one SMTP session as MailSink records it (<see cref="SinkSession.State"/>). It is the
/// source of truth, not the library: it keeps every character of UTF-8 addresses, the EHLO name as sent,
/// and the message bytes read by the adapter.
/// </summary>
internal sealed class SessionState
{
    public string? Ehlo { get; set; }

    /// <summary>
    /// The name typed in the EHLO/HELO the library is answering now, for the greeting to echo: the
    /// library itself is only handed a sanitised name (or a placeholder).
    /// </summary>
    public string? HelloBeingAnswered { get; set; }

    public bool Greeted { get; set; }

    /// <summary>The reverse path of the open transaction ("" for <c>&lt;&gt;</c>), or null when none is open.</summary>
    public string? MailFrom { get; set; }

    public bool SmtpUtf8 { get; set; }

    /// <summary><c>BODY=BINARYMIME</c> was given with MAIL: the message may come only by BDAT (RFC 3030).</summary>
    public bool BinaryMime { get; set; }

    /// <summary>
    /// <c>BODY=8BITMIME</c> was given with MAIL: a program sending 8-bit text, so its DATA body is not searched
    /// for telnet's Ctrl-C (a person at telnet never types the parameter).
    /// </summary>
    public bool EightBitMime { get; set; }

    /// <summary>The BDAT chunks of the open transaction so far, or null before the first (RFC 3030).</summary>
    public MessageBuffer? Chunks { get; set; }

    public List<string> Recipients { get; } = [];

    public bool InTransaction => MailFrom is not null;

    public string? AuthenticatedUser { get; set; }

    /// <summary>The message read by the adapter for the current DATA, handed to the message store.</summary>
    public ReceivedBody? Body { get; set; }

    /// <summary>
    /// The store's reply in full, for the adapter to send: the library writes replies as ASCII, which
    /// would mangle a UTF-8 inbox name.
    /// </summary>
    public string? StoreReply { get; set; }

    /// <summary>A fault rule dropped the connection at the end of DATA: no reply is written, nothing was stored.</summary>
    public bool DropAfterData { get; set; }

    public void ResetTransaction()
    {
        MailFrom = null;
        SmtpUtf8 = false;
        BinaryMime = false;
        EightBitMime = false;
        Recipients.Clear();
        Chunks?.Dispose();
        Chunks = null;
        Body?.Dispose();
        Body = null;
    }
}
