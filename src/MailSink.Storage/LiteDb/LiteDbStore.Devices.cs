using LiteDB;

namespace MailSink.Storage.LiteDb;

/// <summary>Devices and usage counts through the seam.</summary>
internal sealed partial class LiteDbStore : IDeviceRepository, IUsageReader, IAnalysisStore
{
    Task<string?> IAnalysisStore.GetAnalysisAsync(string messageId, string kind, CancellationToken cancellationToken) =>
        UseAsync(() => FindById(_analyses, $"{messageId}:{kind}") is { } kept ? kept["json"].AsString : null, cancellationToken);

    Task IAnalysisStore.SaveAnalysisAsync(string messageId, string kind, string json, CancellationToken cancellationToken) =>
        UseAsync(() =>
        {
            if (FindById(_messageDocuments, messageId) is null)
                return false;
            return _analyses.Upsert(new BsonDocument { ["_id"] = $"{messageId}:{kind}", ["m"] = messageId, ["json"] = json });
        }, cancellationToken);

    /// <summary>A message's kept analyses go with it. Under the gate, in the removal's transaction.</summary>
    private void RemoveAnalysesLocked(string messageId)
    {
        _byMessage.Parameters["0"] = messageId;
        _analyses.DeleteMany(_byMessage);
    }

    Task<IReadOnlyList<DeviceRecord>> IDeviceRepository.ListAsync(CancellationToken cancellationToken) =>
        UseAsync<IReadOnlyList<DeviceRecord>>(() => _devices.FindAll().OrderBy(d => d.CreatedTicks).ThenBy(d => d.Id).ToList(), cancellationToken);

    Task<DeviceRecord?> IDeviceRepository.GetAsync(string id, CancellationToken cancellationToken) =>
        UseAsync(() => FindById(_devices, id), cancellationToken);

    Task<DeviceRecord> IDeviceRepository.CreateAsync(string name, string sharedSecret, CancellationToken cancellationToken) =>
        UseAsync(() =>
        {
            var record = new DeviceRecord { Id = Guid.NewGuid().ToString(), Name = name, SharedSecret = sharedSecret, CreatedTicks = _time.GetUtcNow().UtcTicks };
            _devices.Insert(record);
            return record;
        }, cancellationToken);

    Task<bool> IDeviceRepository.DeleteAsync(string id, CancellationToken cancellationToken) =>
        UseAsync(() => _devices.Delete(id), cancellationToken);

    /// <summary>
    /// One key range per inbox over the messages' inbox+time index, reading keys only (LiteDB answers an
    /// index-only projection without loading documents), bucketed by day here.
    /// </summary>
    Task<IReadOnlyList<DailyCount>> IUsageReader.CountByDayAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        UseAsync<IReadOnlyList<DailyCount>>(() =>
        {
            var days = new SortedDictionary<DateOnly, long>();
            foreach (var inbox in _inboxes.FindAll().Select(i => i.Id).ToList())
            {
                var keys = _messageDocuments.Query()
                    .Where(Query.Between("Key", MessageDocument.MakeKey(inbox, since.UtcTicks), MessageDocument.MakeKey(inbox, long.MaxValue)))
                    .Select("$.Key")
                    .ToEnumerable();
                foreach (var key in keys)
                {
                    var text = key.IsDocument ? key.AsDocument["Key"].AsString : key.AsString;
                    var ticks = long.Parse(text.AsSpan(text.LastIndexOf('/') + 1), System.Globalization.CultureInfo.InvariantCulture);
                    var day = DateOnly.FromDateTime(new DateTime(ticks, DateTimeKind.Utc));
                    days[day] = days.GetValueOrDefault(day) + 1;
                }
            }

            return days.Select(d => new DailyCount(d.Key, d.Value)).ToList();
        }, cancellationToken);
}
