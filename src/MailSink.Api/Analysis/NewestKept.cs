using System.Collections.Concurrent;

namespace MailSink.Api.Analysis;

/// <summary>
/// Results worked out on demand and kept in memory, the newest <c>capacity</c> of them by when they were
/// added: the oldest go first. For previews and deliverability reports, which are costly to make and
/// cheap to keep, but must not grow without bound.
/// </summary>
internal sealed class NewestKept<TValue>(Func<int> capacity)
{
    private readonly ConcurrentDictionary<string, TValue> _items = new();
    private readonly ConcurrentQueue<string> _order = new();

    /// <summary>The value kept under <paramref name="key"/>, or the one <paramref name="make"/> makes and keeps now.</summary>
    public TValue GetOrAdd(string key, Func<string, TValue> make)
    {
        var value = _items.GetOrAdd(key, k =>
        {
            _order.Enqueue(k);
            return make(k);
        });
        Trim();
        return value;
    }

    public void Add(string key, TValue value)
    {
        _items[key] = value;
        _order.Enqueue(key);
        Trim();
    }

    public TValue? Find(string key) => _items.GetValueOrDefault(key);

    public void Remove(string key) => _items.TryRemove(key, out _);

    private void Trim()
    {
        while (_order.Count > capacity() && _order.TryDequeue(out var oldest))
            _items.TryRemove(oldest, out _);
    }
}
