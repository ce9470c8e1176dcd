namespace MailSink.Storage.PostgreSql;

/// <summary>The <c>MailSink:Storage:PostgreSql</c> section.</summary>
public sealed class PostgreSqlOptions
{
    public const string ConnectionStringKey = "MailSink:Storage:PostgreSql:ConnectionString";

    /// <summary>An Npgsql connection string, e.g. <c>Host=db;Database=mailsink;Username=mailsink;Password=...</c>.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>
    /// Whether bodies have a trigram index (<c>contents_body_trgm</c>), made or dropped at start to match.
    /// With it, a body search of a large inbox is an index lookup; without it, such a search reads the
    /// inbox's bodies (as the LiteDB engine does), and each small message costs PostgreSQL about half the
    /// CPU: keeping the index up to date is the largest part of what PostgreSQL does for one
    /// (docs/postgresql.md, "The body index"). Searches of inboxes up to 1,000 messages never use it. Every
    /// node of one database should say the same: the last node to start decides.
    /// </summary>
    public bool BodySearchIndex { get; set; } = true;
}
