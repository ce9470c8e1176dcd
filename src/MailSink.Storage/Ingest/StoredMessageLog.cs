using Microsoft.Extensions.Logging;

namespace MailSink.Storage.Ingest;

/// <summary>
/// The log's line for each stored message, written for a person watching the console: every message while
/// mail comes at up to <see cref="PerSecond"/> a second, and beyond that one line a second counting the rest
/// (each of which is still logged at Debug). A line for every message cost 6-9% of the rate and 12-17% of
/// the CPU a message under load (docs/performance.md), which a test suite sending thousands does not need.
/// </summary>
internal sealed class StoredMessageLog : IDisposable
{
    /// <summary>Messages a second logged one by one at Information.</summary>
    internal const int PerSecond = 10;

    private readonly ILogger _logger;
    private readonly LogAllowance _allowance;

    public StoredMessageLog(ILogger logger, TimeProvider time)
    {
        _logger = logger;
        _allowance = new LogAllowance(PerSecond, time, summed => Log.MessagesStoredSummary(logger, summed, PerSecond));
    }

    /// <summary>Logs one stored message: at Information within the second's allowance, else at Debug and counted.</summary>
    public void Stored(StoredMessage message, string sender) =>
        Log.MessageStored(_logger, _allowance.Take() ? LogLevel.Information : LogLevel.Debug, message.Id, message.Inbox, message.Size, sender);

    public void Dispose() => _allowance.Dispose();
}
