namespace MailSink.Storage;

/// <summary>
/// The storage seam for virtual security devices (Mailosaur "devices"): a name and a TOTP shared secret,
/// kept like inboxes so that they survive a restart and every node sees the same ones.
/// </summary>
public interface IDeviceRepository
{
    /// <summary>Every device, oldest first.</summary>
    Task<IReadOnlyList<DeviceRecord>> ListAsync(CancellationToken cancellationToken);

    Task<DeviceRecord?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Stores a new device with a new id (a GUID, as Mailosaur's clients expect: they tell an id from a secret by its hyphen).</summary>
    Task<DeviceRecord> CreateAsync(string name, string sharedSecret, CancellationToken cancellationToken);

    /// <summary>False when the device is unknown.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);
}

/// <summary>A virtual security device: what generates one-time passwords for a test's two-factor sign-in.</summary>
public sealed class DeviceRecord
{
    public string Id { get; set; } = "";

    public string Name { get; set; } = "";

    /// <summary>The base32 shared secret, as given (spaces removed, upper case).</summary>
    public string SharedSecret { get; set; } = "";

    public long CreatedTicks { get; set; }
}

/// <summary>How many messages that are still kept arrived on one UTC day.</summary>
public readonly record struct DailyCount(DateOnly Day, long Messages);

/// <summary>What usage reports read: messages per day of arrival.</summary>
public interface IUsageReader
{
    /// <summary>Messages kept now, by the UTC day they arrived on, from <paramref name="since"/> on; days without mail are left out.</summary>
    Task<IReadOnlyList<DailyCount>> CountByDayAsync(DateTimeOffset since, CancellationToken cancellationToken);
}

/// <summary>
/// Analyses kept with their message (a deliverability report, made once): saved as JSON under a kind,
/// gone when the message goes (deleted, emptied with its inbox, or removed by retention).
/// </summary>
public interface IAnalysisStore
{
    /// <summary>The kept analysis, or null.</summary>
    Task<string?> GetAnalysisAsync(string messageId, string kind, CancellationToken cancellationToken);

    /// <summary>Keeps an analysis with its message; nothing when the message is gone meanwhile.</summary>
    Task SaveAnalysisAsync(string messageId, string kind, string json, CancellationToken cancellationToken);
}
