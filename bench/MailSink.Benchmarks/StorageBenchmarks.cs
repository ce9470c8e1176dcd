using BenchmarkDotNet.Attributes;
using MailSink.Storage;

namespace MailSink.Benchmarks;

/// <summary>
/// MessageIngest.IngestAsync: parse, route, then the writer's group commit, returning after the commit
/// (what every 250 waits for). One message at a time is one message per transaction; 100 at once lets
/// the writer put many in one transaction. Per message; subtract ParseBenchmarks for storage alone.
/// </summary>
public class StorageBenchmarks
{
    private const int Concurrent = 100;
    private Store _store = null!;
    private byte[] _raw = [];

    [Params("2 KB text", "100 KB attachment")]
    public string Message { get; set; } = "";

    [GlobalSetup]
    public async Task Setup()
    {
        _raw = Messages.Get(Message);
        _store = await Store.StartAsync();
    }

    [GlobalCleanup]
    public async Task Cleanup() => await _store.DisposeAsync();

    [Benchmark]
    public Task<IReadOnlyList<StoredMessage>> Ingest_one_at_a_time() =>
        _store.Ingest.IngestAsync(_raw, Messages.Envelope, CancellationToken.None);

    [Benchmark(OperationsPerInvoke = Concurrent)]
    public Task Ingest_100_at_once()
    {
        var writes = new Task[Concurrent];
        for (var i = 0; i < Concurrent; i++)
            writes[i] = _store.Ingest.IngestAsync(_raw, Messages.Envelope, CancellationToken.None);
        return Task.WhenAll(writes);
    }
}
