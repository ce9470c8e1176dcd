using Microsoft.Extensions.Logging;

namespace MailSink.Storage.PostgreSql;

/// <summary>PostgreSQL engine log events (21xx). Never log message bodies or the connection string's password.</summary>
internal static partial class PostgreSqlLog
{
    [LoggerMessage(2101, LogLevel.Information, "PostgreSQL {Where}: schema brought from version {From} to {To}")]
    public static partial void SchemaMigrated(ILogger logger, string where, int from, int to);

    [LoggerMessage(2102, LogLevel.Warning, "Listening for arrivals at {Where} failed; connecting again in {Delay}")]
    public static partial void ListenerFailed(ILogger logger, string where, TimeSpan delay, Exception exception);

    [LoggerMessage(2103, LogLevel.Information, "Listening for arrivals at {Where} again, from receive time {Cursor}")]
    public static partial void ListenerResumed(ILogger logger, string where, long cursor);

    [LoggerMessage(2104, LogLevel.Debug, "Retention at {Where} is being run by another node; this pass stops")]
    public static partial void RetentionElsewhere(ILogger logger, string where);

    [LoggerMessage(2105, LogLevel.Information, "The trigram index of message bodies was {Change} in {Milliseconds} ms (MailSink:Storage:PostgreSql:BodySearchIndex)")]
    public static partial void BodyIndexChanged(ILogger logger, string change, long milliseconds);
}
