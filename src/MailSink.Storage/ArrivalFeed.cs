using System.Collections.Immutable;

namespace MailSink.Storage;

/// <summary>
/// Tells subscribers about each message right after its commit: the wake-up for waiting API clients and
/// live views, so nothing polls. Subscribers run on the writer thread and must return at once.
/// </summary>
public sealed class ArrivalFeed
{
    private ImmutableArray<Action<StoredMessage>> _subscribers = [];

    public IDisposable Subscribe(Action<StoredMessage> onArrival)
    {
        ImmutableInterlocked.Update(ref _subscribers, s => s.Add(onArrival));
        return new Subscription(this, onArrival);
    }

    internal void Publish(IReadOnlyList<StoredMessage> messages)
    {
        var subscribers = _subscribers;
        foreach (var message in messages)
        {
            foreach (var subscriber in subscribers)
                subscriber(message);
        }
    }

    private sealed class Subscription(ArrivalFeed feed, Action<StoredMessage> onArrival) : IDisposable
    {
        public void Dispose() => ImmutableInterlocked.Update(ref feed._subscribers, s => s.Remove(onArrival));
    }
}
