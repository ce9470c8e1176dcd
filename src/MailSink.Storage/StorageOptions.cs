using System.ComponentModel.DataAnnotations;

namespace MailSink.Storage;

/// <summary>The <c>MailSink:Storage</c> section.</summary>
public sealed class StorageOptions
{
    public const string Section = "MailSink:Storage";

    /// <summary>The LiteDB file, relative to the content root when not absolute.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Path { get; set; } = "data/mailsink.db";

    /// <summary>How many queued messages one storage transaction may carry (group commit).</summary>
    [Range(1, 1000)]
    public int MaxBatchMessages { get; set; } = 100;
}
