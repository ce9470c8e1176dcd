namespace MailSink.Storage;

/// <summary>Limits that keep a long-running trap from filling the disk (part of <c>MailSink:Storage</c>).</summary>
public interface IRetentionLimits
{
    /// <summary>0: no cap.</summary>
    long MaxMessagesPerInbox { get; }

    /// <summary>Zero: messages never expire.</summary>
    TimeSpan MaxAge { get; }

    /// <summary>0: no cap. Bytes the store takes: raw messages as stored and their parsed documents.</summary>
    long MaxTotalBytes { get; }

    TimeSpan RetentionInterval { get; }
}
