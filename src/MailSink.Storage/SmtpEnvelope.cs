namespace MailSink.Storage;

/// <summary>What the SMTP session knew about a message, apart from its bytes.</summary>
/// <param name="MailFrom">The reverse path as given (empty for the null sender <c>&lt;&gt;</c>).</param>
/// <param name="RcptTo">Accepted recipients, in the order given, every character kept.</param>
/// <param name="Ehlo">The EHLO or HELO argument as the client sent it.</param>
/// <param name="RemoteAddress">The client's address and port.</param>
/// <param name="TlsProtocol">The TLS protocol of the session (for example <c>Tls13</c>), or null in plain text.</param>
/// <param name="AuthenticatedUser">The user name of a successful AUTH, or null.</param>
/// <param name="SmtpUtf8">Whether the client declared SMTPUTF8 for this transaction.</param>
public sealed record SmtpEnvelope(
    string MailFrom,
    IReadOnlyList<string> RcptTo,
    string? Ehlo,
    string? RemoteAddress,
    string? TlsProtocol,
    string? AuthenticatedUser,
    bool SmtpUtf8);
