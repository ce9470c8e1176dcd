namespace MailSink.Server.Smtp;

// DataBodyDecoder.Complete returns this type, declared in MailSink.Server next to the session state
// (SessionState.cs); the same one-line declaration here lets the linked decoder source compile alone.
internal sealed record ReceivedBody(byte[]? Bytes, bool TooLarge);
