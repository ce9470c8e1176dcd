namespace MailSink.Storage.Retention;

/// <summary>What an engine does for retention: one pass over the limits, oldest messages first.</summary>
internal interface IRetentionStore
{
    /// <summary>
    /// Removes what is beyond <paramref name="limits"/> at <paramref name="now"/>; how many messages went. An
    /// engine whose receive times come from another clock (PostgreSQL's) ages messages by that clock instead.
    /// </summary>
    Task<int> ApplyRetentionAsync(IRetentionLimits limits, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Bytes the store holds as <see cref="IRetentionLimits.MaxTotalBytes"/> counts them.</summary>
    Task<long> StoredBytesAsync(CancellationToken cancellationToken);
}
