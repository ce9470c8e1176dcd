using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MailSink.Storage;

/// <summary>
/// The one writer: a loop that takes whatever is queued, up to <see cref="StorageOptions.MaxBatchMessages"/>,
/// commits it in one transaction, and only then completes each caller's task. Group commit keeps "250
/// means on disk" cheap under load. It waits asynchronously (a blocked thread spinning for work cost a
/// few percent of a 2-core machine); each batch's transaction runs synchronously, start to commit, on
/// one thread, as LiteDB requires.
/// </summary>
public sealed class MessageWriter
{
    private const long MaxBatchBytes = 64L * 1024 * 1024;

    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(
        new UnboundedChannelOptions { SingleReader = true });
    private readonly MessageRepository _repository;
    private readonly ArrivalFeed _feed;
    private readonly TimeProvider _time;
    private readonly ILogger<MessageWriter> _logger;
    private readonly int _maxBatch;
    private Task? _loop;
    private int _failedBatches;

    public MessageWriter(
        MessageRepository repository,
        ArrivalFeed feed,
        TimeProvider time,
        IOptions<StorageOptions> options,
        ILogger<MessageWriter> logger)
    {
        _repository = repository;
        _feed = feed;
        _time = time;
        _logger = logger;
        _maxBatch = options.Value.MaxBatchMessages;
    }

    internal void Start() => _loop ??= Task.Run(RunAsync);

    /// <summary>How many batches could not be committed since start (each of their messages was refused).</summary>
    public int FailedBatches => Volatile.Read(ref _failedBatches);

    /// <summary>Queues a write and completes when it is committed; faults when it could not be.</summary>
    internal Task WriteAsync(PendingWrite write)
    {
        if (!_queue.Writer.TryWrite(write))
            throw new StorageUnavailableException("Storage is shutting down.");
        return write.Committed.Task;
    }

    /// <summary>Stops taking writes, commits what is queued, and waits for the thread to finish.</summary>
    internal Task StopAsync()
    {
        _queue.Writer.TryComplete();
        return _loop ?? Task.CompletedTask;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<PendingWrite>(_maxBatch);
        while (await reader.WaitToReadAsync())
        {
            batch.Clear();
            long bytes = 0, messages = 0;
            while (messages < _maxBatch && bytes < MaxBatchBytes && reader.TryRead(out var write))
            {
                batch.Add(write);
                bytes += write.Raw.StoredBytes;
                messages += write.Messages.Count;
            }

            CommitBatch(batch);
        }
    }

    private void CommitBatch(List<PendingWrite> batch)
    {
        try
        {
            _repository.Commit(batch, _time.GetUtcNow());
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _failedBatches);
            Log.CommitFailed(_logger, batch.Count, ex);
            foreach (var write in batch)
                write.Committed.TrySetException(new StorageUnavailableException("The message could not be written to storage.", ex));
            return;
        }

        foreach (var write in batch)
        {
            write.Committed.TrySetResult();
            _feed.Publish(write.Messages);
        }
    }
}
