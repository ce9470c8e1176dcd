namespace MailSink.Storage.PostgreSql;

/// <summary>The <c>MailSink:Storage:PostgreSql</c> section.</summary>
public sealed class PostgreSqlOptions
{
    public const string ConnectionStringKey = "MailSink:Storage:PostgreSql:ConnectionString";

    /// <summary>An Npgsql connection string, e.g. <c>Host=db;Database=mailsink;Username=mailsink;Password=...</c>.</summary>
    public string ConnectionString { get; set; } = "";
}
