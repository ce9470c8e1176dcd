using MailSink.Server.Smtp;

namespace MailSink.Server;

/// <summary>Server log events (1xxx). Never log message bodies or passwords.</summary>
internal static partial class Log
{
    [LoggerMessage(1001, LogLevel.Information, "SMTP listening on {EndPoint} (TLS {Tls}, AUTH {Auth})")]
    public static partial void Listening(ILogger logger, string endPoint, TlsMode tls, ListenerAuth auth);

    [LoggerMessage(1002, LogLevel.Information, "SMTP draining: no new sessions, {Active} open sessions may finish")]
    public static partial void Draining(ILogger logger, int active);

    [LoggerMessage(1003, LogLevel.Warning, "SMTP drain deadline passed with {Active} sessions still open; aborting them")]
    public static partial void DrainTimedOut(ILogger logger, int active);

    [LoggerMessage(1004, LogLevel.Information, "SMTP stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(1010, LogLevel.Debug, "[{Session}] connection from {Remote} on port {Port}")]
    public static partial void SessionOpened(ILogger logger, string session, string remote, int port);

    [LoggerMessage(1011, LogLevel.Warning, "Connection from {Remote} refused with 421: {Refusal} ({Active} sessions open; MailSink:Smtp:MaxConnections, MaxConnectionsPerAddress)")]
    public static partial void ConnectionRejected(ILogger logger, string remote, int active, string refusal);

    [LoggerMessage(1041, LogLevel.Warning, "{Count} more connections refused with 421 in the last second (each is logged only up to 10 a second)")]
    public static partial void ConnectionsRejectedSummary(ILogger logger, int count);

    [LoggerMessage(1012, LogLevel.Warning, "Accepting on port {Port} failed: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, int port, string reason);

    [LoggerMessage(1013, LogLevel.Debug, "[{Session}] client closed the connection")]
    public static partial void ClientClosed(ILogger logger, string session);

    [LoggerMessage(1014, LogLevel.Information, "[{Session}] idle for {Seconds} s, closed with 421")]
    public static partial void SessionIdle(ILogger logger, string session, double seconds);

    [LoggerMessage(1028, LogLevel.Information, "[{Session}] the client read none of its replies for {Seconds} s (its connection stayed full): closed without a 421")]
    public static partial void ClientNotReading(ILogger logger, string session, double seconds);

    [LoggerMessage(1024, LogLevel.Information, "[{Session}] closed with 421 after {Errors} error replies (MailSink:Smtp:MaxErrorsPerSession)")]
    public static partial void TooManyErrors(ILogger logger, string session, int errors);

    [LoggerMessage(1025, LogLevel.Information, "[{Session}] closed with 421 after {Limit} commands without a message (MailSink:Smtp:MaxCommandsWithoutMessage)")]
    public static partial void TooManyCommands(ILogger logger, string session, int limit);

    [LoggerMessage(1015, LogLevel.Information, "[{Session}] closed with 421 for shutdown")]
    public static partial void SessionDrained(ILogger logger, string session);

    [LoggerMessage(1016, LogLevel.Information, "[{Session}] connection lost during DATA after {Bytes} bytes: nothing stored")]
    public static partial void DataAbandoned(ILogger logger, string session, long bytes);

    [LoggerMessage(1026, LogLevel.Information, "[{Session}] connection lost during a BDAT chunk after {Bytes} of its bytes: nothing stored")]
    public static partial void ChunkAbandoned(ILogger logger, string session, long bytes);

    [LoggerMessage(1027, LogLevel.Warning, "[{Session}] malformed BDAT command ({Command}): closed with 421, as the bytes after it cannot be told from commands")]
    public static partial void MalformedBdat(ILogger logger, string session, string command);

    [LoggerMessage(1017, LogLevel.Debug, "[{Session}] session faulted: {Reason}")]
    public static partial void SessionFaulted(ILogger logger, string session, string reason);

    [LoggerMessage(1018, LogLevel.Debug, "TLS handshake failed: {Reason}")]
    public static partial void TlsHandshakeFailed(ILogger logger, string reason);

    [LoggerMessage(1019, LogLevel.Warning, "[{Session}] unexpected reply {Code} from the SMTP library passed through")]
    public static partial void UnexpectedLibraryReply(ILogger logger, string session, int code);

    [LoggerMessage(1020, LogLevel.Information, "[{Session}] authenticated as {User}")]
    public static partial void Authenticated(ILogger logger, string session, string user);

    [LoggerMessage(1021, LogLevel.Information, "[{Session}] authentication failed for {User}")]
    public static partial void AuthenticationFailed(ILogger logger, string session, string user);

    [LoggerMessage(1022, LogLevel.Information, "[{Session}] message over the {Limit} byte limit refused with 552")]
    public static partial void MessageTooLarge(ILogger logger, string session, long limit);

    [LoggerMessage(1023, LogLevel.Error, "[{Session}] storing a message failed; answered 451")]
    public static partial void StoreFailed(ILogger logger, string session, Exception exception);

    [LoggerMessage(1030, LogLevel.Information, "TLS certificate {Path}: {Subject}, valid until {NotAfter}")]
    public static partial void CertificateLoaded(ILogger logger, string path, string subject, DateTime notAfter);

    [LoggerMessage(1031, LogLevel.Information, "Created a self-signed TLS certificate {Path} for {Subject}")]
    public static partial void CertificateCreated(ILogger logger, string path, string subject);

    [LoggerMessage(1032, LogLevel.Warning, "Could not save the self-signed certificate to {Path} ({Reason}); using it for this run only")]
    public static partial void CertificateNotSaved(ILogger logger, string path, string reason);

    [LoggerMessage(1033, LogLevel.Information, "The self-signed TLS certificate {Path} ({Subject}, valid until {NotAfter}) is not for the server name {ServerName} or has expired: making a new one; the old one is {Kept}")]
    public static partial void CertificateReplaced(ILogger logger, string path, string subject, DateTime notAfter, string serverName, string kept);

    [LoggerMessage(1034, LogLevel.Warning, "The TLS certificate {Path} ({Subject}) is not for the server name {ServerName}: a client that checks names will refuse it. Put one for that name there, or remove it to have a self-signed one made")]
    public static partial void CertificateNotForServerName(ILogger logger, string path, string subject, string serverName);

    [LoggerMessage(1040, LogLevel.Warning, "{Message}")]
    public static partial void UnknownSetting(ILogger logger, string message);
}
