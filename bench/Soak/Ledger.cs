using System.Collections.Concurrent;

namespace MailSink.Soak;

/// <summary>What the soak knows: every acknowledged message, the subjects waiters want sent, and every error.</summary>
internal sealed class Ledger
{
    public sealed record Acknowledged(string Id, string Inbox, string Subject, byte[] Sha256, int Size, string? Code);

    public ConcurrentDictionary<string, Acknowledged> Messages { get; } = new();

    /// <summary>Messages a waiter is waiting for: senders send these first.</summary>
    public ConcurrentQueue<(string Inbox, string Subject)> Wanted { get; } = new();

    private readonly ConcurrentQueue<string> _errors = new();
    private long _errorCount;
    private long _requests;
    private long _sessions;

    public long ErrorCount => Interlocked.Read(ref _errorCount);

    public long Requests => Interlocked.Read(ref _requests);

    public long Sessions => Interlocked.Read(ref _sessions);

    public IEnumerable<string> FirstErrors => _errors;

    public void Error(string what)
    {
        if (Interlocked.Increment(ref _errorCount) <= 20)
            _errors.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {what}");
    }

    public void Request() => Interlocked.Increment(ref _requests);

    private readonly ConcurrentDictionary<string, (long Count, double TotalMs, double MaxMs)> _latency = new();

    /// <summary>Records how long one API operation took.</summary>
    public void Took(string operation, TimeSpan elapsed) =>
        _latency.AddOrUpdate(operation, (1, elapsed.TotalMilliseconds, elapsed.TotalMilliseconds),
            (_, v) => (v.Count + 1, v.TotalMs + elapsed.TotalMilliseconds, Math.Max(v.MaxMs, elapsed.TotalMilliseconds)));

    public string Latencies() => string.Join(", ", _latency.OrderBy(l => l.Key, StringComparer.Ordinal)
        .Select(l => $"{l.Key} {l.Value.Count}× mean {l.Value.TotalMs / l.Value.Count:F0} ms max {l.Value.MaxMs:F0} ms"));

    public void Session() => Interlocked.Increment(ref _sessions);

    public void Add(Acknowledged message)
    {
        Messages[message.Id] = message;
        if (message.Code is null)
            return;
        _recentCodes.Enqueue(message);
        while (_recentCodes.Count > 200 && _recentCodes.TryDequeue(out _))
        {
        }
    }

    private readonly ConcurrentQueue<Acknowledged> _recentCodes = new();

    /// <summary>One of the last 200 acknowledged messages with a code (what a test waits for), or null before the first.</summary>
    public Acknowledged? RecentWithCode(Random random)
    {
        var recent = _recentCodes.ToArray();
        return recent.Length == 0 ? null : recent[random.Next(recent.Length)];
    }

    /// <summary>A random acknowledged message, or null before the first.</summary>
    public Acknowledged? Any(Random random)
    {
        // Keys are copied only now and then: the dictionary grows to tens of thousands of entries.
        var snapshot = _snapshot;
        if (snapshot.Length == 0 || (random.Next(200) == 0 && Messages.Count > snapshot.Length))
            _snapshot = snapshot = [.. Messages.Values];
        return snapshot.Length == 0 ? null : snapshot[random.Next(snapshot.Length)];
    }

    private volatile Acknowledged[] _snapshot = [];
}
