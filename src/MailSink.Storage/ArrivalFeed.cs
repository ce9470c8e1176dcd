using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace MailSink.Storage;

/// <summary>
/// Tells subscribers about each message right after its commit: the wake-up for waiting API clients and
/// live views, so nothing polls. Subscriptions are per inbox (or to every inbox), so an arrival touches
/// only its own waiters. Subscribers run in the writer loop, right after the commit, and must return at once;
/// one that throws is passed over (and counted), so that it cannot stop the writer.
/// </summary>
public sealed class ArrivalFeed
{
    private const string EveryInbox = "";
    private readonly ConcurrentDictionary<string, ImmutableArray<Action<StoredMessage>>> _subscribers = new(StringComparer.Ordinal);
    private ImmutableArray<Action<StoredMessage>> _local = [];
    private int _subscriberFaults;

    /// <summary>Subscribes to one inbox, or to all when <paramref name="inbox"/> is null.</summary>
    public IDisposable Subscribe(string? inbox, Action<StoredMessage> onArrival)
    {
        var key = inbox ?? EveryInbox;
        _subscribers.AddOrUpdate(key, _ => [onArrival], (_, list) => list.Add(onArrival));
        return new Subscription(this, key, onArrival);
    }

    /// <summary>
    /// Subscribes to the messages this process stored itself, in every inbox: what must happen once per
    /// message however many nodes share the store (a webhook), where <see cref="Subscribe"/> also hears
    /// other nodes' arrivals.
    /// </summary>
    public IDisposable SubscribeLocal(Action<StoredMessage> onArrival)
    {
        ImmutableInterlocked.Update(ref _local, list => list.Add(onArrival));
        return new LocalSubscription(this, onArrival);
    }

    /// <summary>How many subscribers wait on one inbox (what a health view or a test can look at).</summary>
    public int SubscriberCount(string inbox) => _subscribers.TryGetValue(inbox, out var list) ? list.Length : 0;

    /// <param name="local">Stored by this process (its writer), not heard from another node.</param>
    internal void Publish(IReadOnlyList<StoredMessage> messages, bool local = true)
    {
        var locals = local ? _local : [];
        foreach (var message in messages)
        {
            if (!locals.IsEmpty)
                Notify(locals, message);
            if (_subscribers.TryGetValue(message.Inbox, out var inboxSubscribers))
                Notify(inboxSubscribers, message);
            if (_subscribers.TryGetValue(EveryInbox, out var everySubscribers))
                Notify(everySubscribers, message);
        }
    }

    /// <summary>Exceptions thrown by subscribers, which publishing caught and went on past.</summary>
    internal int SubscriberFaults => Volatile.Read(ref _subscriberFaults);

    private void Notify(ImmutableArray<Action<StoredMessage>> subscribers, StoredMessage message)
    {
        foreach (var subscriber in subscribers)
        {
            try
            {
                subscriber(message);
            }
            catch (Exception)
            {
                // A subscriber's fault is its own: the writer or listener publishing must go on, or every
                // later message would wait for ever.
                Interlocked.Increment(ref _subscriberFaults);
            }
        }
    }

    private void Unsubscribe(string key, Action<StoredMessage> onArrival)
    {
        while (_subscribers.TryGetValue(key, out var list))
        {
            var updated = list.Remove(onArrival);
            if (updated.IsEmpty
                    ? _subscribers.TryRemove(new KeyValuePair<string, ImmutableArray<Action<StoredMessage>>>(key, list))
                    : _subscribers.TryUpdate(key, updated, list))
                return;
        }
    }

    private sealed class LocalSubscription(ArrivalFeed feed, Action<StoredMessage> onArrival) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                ImmutableInterlocked.Update(ref feed._local, list => list.Remove(onArrival));
        }
    }

    private sealed class Subscription(ArrivalFeed feed, string key, Action<StoredMessage> onArrival) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
                feed.Unsubscribe(key, onArrival);
        }
    }
}
