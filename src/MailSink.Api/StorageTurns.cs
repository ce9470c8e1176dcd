using Microsoft.Extensions.DependencyInjection;

namespace MailSink.Api;

/// <summary>
/// API calls that use the database take turns here, without holding a thread, before they reach the
/// storage's gate (every use of the database runs under one lock). A call queued behind a commit used to
/// block a thread-pool thread on that lock; under 500 messages/s and 500 calls/s the pool ran out of
/// threads and every request, the UI's static files included, waited 40–80 ms for one. As many calls
/// as there are cores go through at once: one reads the database while another turns what it read into
/// JSON or parses a message. Searches and waits take their turns inside the storage layer (a body search
/// is long and must not keep the others out), and a call with a body reads it before it takes a turn.
/// </summary>
public sealed class StorageTurns
{
    private readonly SemaphoreSlim _turns = new(Environment.ProcessorCount, Environment.ProcessorCount);
    private int _waiting;

    /// <summary>Calls waiting for a turn now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public async ValueTask<Turn> TakeAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await _turns.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        return new Turn(_turns);
    }

    public readonly struct Turn(SemaphoreSlim turns) : IDisposable
    {
        public void Dispose() => turns.Release();
    }
}

internal static class StorageTurnsEndpointExtensions
{
    /// <summary>The endpoints' handlers run in a <see cref="StorageTurns"/> turn.</summary>
    public static TBuilder TakesStorageTurns<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var turns = context.HttpContext.RequestServices.GetRequiredService<StorageTurns>();
            using var turn = await turns.TakeAsync(context.HttpContext.RequestAborted);
            return await next(context);
        });
}
