using System.ComponentModel.DataAnnotations;

namespace MailSink.Storage;

/// <summary>The <c>MailSink:Storage</c> section.</summary>
public sealed class StorageOptions : IRetentionLimits
{
    public const string Section = "MailSink:Storage";

    /// <summary>Which engine holds the mail: LiteDB (one file, one process) or PostgreSQL (shared by several processes).</summary>
    public StorageEngine Engine { get; set; } = StorageEngine.LiteDb;

    /// <summary>The <c>MailSink:Storage:PostgreSql</c> section, used when <see cref="Engine"/> is PostgreSql.</summary>
    public PostgreSql.PostgreSqlOptions PostgreSql { get; set; } = new();

    /// <summary>The LiteDB file, relative to the content root when not absolute (LiteDB only).</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "MailSink:Storage:Path must name the database file, e.g. data/mailsink.db.")]
    public string Path { get; set; } = "data/mailsink.db";

    /// <summary>How many queued messages one storage transaction may carry (group commit).</summary>
    [Range(1, 1000, ErrorMessage = "MailSink:Storage:MaxBatchMessages must be from 1 to 1000.")]
    public int MaxBatchMessages { get; set; } = 100;

    /// <summary>Oldest messages of an inbox beyond this many are removed; 0 keeps all.</summary>
    [Range(0, long.MaxValue, ErrorMessage = "MailSink:Storage:MaxMessagesPerInbox must be 0 (no cap) or more.")]
    public long MaxMessagesPerInbox { get; set; }

    /// <summary>Messages older than this are removed; 00:00:00 keeps them forever.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.Zero;

    /// <summary>Oldest messages are removed while the raw bytes stored exceed this; 0 means no cap.</summary>
    [Range(0, long.MaxValue, ErrorMessage = "MailSink:Storage:MaxTotalBytes must be 0 (no cap) or more.")]
    public long MaxTotalBytes { get; set; }

    /// <summary>
    /// Message bodies kept in memory so that a body search need not read each message again, at most this
    /// many megabytes (counted at two bytes a character); 0 keeps none. Only inboxes that were searched keep any.
    /// </summary>
    [Range(0, 1_048_576, ErrorMessage = "MailSink:Storage:SearchCacheMegabytes must be from 0 (keep no bodies) to 1048576.")]
    public int SearchCacheMegabytes { get; set; } = 64;

    /// <summary>
    /// New mail is refused with <c>452</c> while the disk holding the LiteDB file has less free space than
    /// this (as Postfix's queue_minfree does), so that mail never fills the disk and reads and deletes go on.
    /// 0: no floor.
    /// </summary>
    [Range(0, long.MaxValue, ErrorMessage = "MailSink:Storage:MinFreeBytes must be 0 (no floor) or more.")]
    public long MinFreeBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How often retention runs (it also runs soon after a write that crosses a limit).</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>The storage engines behind the seam.</summary>
public enum StorageEngine
{
    /// <summary>One LiteDB file, used by one process.</summary>
    LiteDb,

    /// <summary>A PostgreSQL database, which several MailSink processes may share.</summary>
    PostgreSql,
}
