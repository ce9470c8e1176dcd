using MailSink.Storage.Search;

namespace MailSink.Storage;

/// <summary>
/// Waits for the newest message of an inbox that matches criteria: answers at once when one is stored,
/// otherwise when the arrival feed announces one. A waiter is a task completion source and a feed
/// subscription: nothing runs while it waits.
/// </summary>
public sealed class MessageWaiter
{
    private readonly IMessageRepository repository;
    private readonly ArrivalFeed feed;

    public MessageWaiter(IMessageRepository repository, ArrivalFeed feed, MailSinkMetrics? metrics = null)
    {
        this.repository = repository;
        this.feed = feed;
        metrics?.Observe("mailsink.await.waiters", "{request}", "API awaits waiting for a message now", () => Waiting);
    }

    private static readonly TimeSpan MinimumLook = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RetryLook = TimeSpan.FromSeconds(1);

    private int _waiting;

    /// <summary>Waits in progress now (a gauge of the metrics).</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public async Task<StoredMessage?> WaitAsync(
        string inbox,
        SearchCriteria criteria,
        DateTimeOffset? receivedAfter,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            return await WaitCoreAsync(inbox, criteria, receivedAfter, timeout, cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
    }

    private async Task<StoredMessage?> WaitCoreAsync(
        string inbox,
        SearchCriteria criteria,
        DateTimeOffset? receivedAfter,
        TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var arrived = new TaskCompletionSource<StoredMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var afterTicks = receivedAfter?.UtcTicks ?? long.MinValue;

        // Subscribe before looking, so that nothing stored in between is missed.
        using var subscription = feed.Subscribe(inbox, message =>
        {
            if (message.ReceivedTicks <= afterTicks)
                return;
            if (message.ContentLoaded)
            {
                if (criteria.Matches(message))
                    arrived.TrySetResult(message);
                return;
            }

            // An engine that announces what a listing shows (PostgreSQL, for every node): the facts decide
            // what they can here; a message that may match is read in full, away from the announcing loop.
            if (criteria.Matches(SearchFacts.Of(message), () => true))
                _ = Task.Run(() => MatchWholeAsync(message.Id, criteria, arrived, cancellationToken), CancellationToken.None);
        });

        // The time given covers the search too (a body search may wait for its turn and read a whole
        // inbox), but the first look always gets at least a second: a message already there is the answer
        // even to a wait of 0 ms.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        using var lookDeadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        lookDeadline.CancelAfter(timeout > MinimumLook ? timeout : MinimumLook);
        try
        {
            while (true)
            {
                IReadOnlyList<StoredMessage> existing;
                try
                {
                    existing = await repository.SearchAsync(inbox, criteria, 0, 1, receivedAfter, lookDeadline.Token);
                }
                catch (StorageUnavailableException)
                {
                    // The store is down for now: a wait outlives that. What arrives meanwhile answers it; the
                    // look is tried again in a moment, for what was stored before the store went away.
                    if (await Task.WhenAny(arrived.Task, Task.Delay(RetryLook, deadline.Token)) == arrived.Task)
                        return await arrived.Task;
                    continue;
                }

                if (existing.Count > 0)
                {
                    // A search gives what lists show; the answer is the whole message (a body search may have read it already).
                    return existing[0].ContentLoaded ? existing[0] : await repository.GetAsync(existing[0].Id, cancellationToken) ?? existing[0];
                }

                return await arrived.Task.WaitAsync(deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null; // the time given is up
        }
    }

    /// <summary>Reads an announced message in full and answers with it when it matches.</summary>
    private async Task MatchWholeAsync(string id, SearchCriteria criteria, TaskCompletionSource<StoredMessage> arrived, CancellationToken cancellationToken)
    {
        try
        {
            if (await repository.GetAsync(id, cancellationToken) is { } whole && criteria.Matches(whole))
                arrived.TrySetResult(whole);
        }
        catch (Exception ex) when (ex is StorageUnavailableException or OperationCanceledException)
        {
            // the wait goes on (or ends) without it
        }
    }
}
