using BenchmarkDotNet.Attributes;
using MailSink.Storage;
using MailSink.Storage.Mime;

namespace MailSink.Benchmarks;

/// <summary>SearchCriteria.Matches over 10,000 parsed messages (one inbox's worth): the in-memory part of a search.</summary>
public class MatchBenchmarks
{
    private const int Count = 10_000;
    private StoredMessage[] _messages = [];
    private readonly SearchCriteria _subject = new(null, null, "code 0004242", null);
    private readonly SearchCriteria _sentTo = new(null, "u42@bench.localhost", null, null);
    private readonly SearchCriteria _body = new(null, null, null, "no such words");

    [GlobalSetup]
    public void Setup() =>
        _messages = Enumerable.Range(0, Count)
            .Select(n => MessageParser.Parse(Messages.PlainText2K(n, $"u{n % 100}@bench.localhost"), Messages.Envelope))
            .ToArray();

    [Benchmark(OperationsPerInvoke = Count)]
    public int Subject_one_match() => Scan(_subject);

    [Benchmark(OperationsPerInvoke = Count)]
    public int SentTo_one_percent() => Scan(_sentTo);

    [Benchmark(OperationsPerInvoke = Count)]
    public int Body_no_match() => Scan(_body);

    private int Scan(SearchCriteria criteria)
    {
        var n = 0;
        foreach (var message in _messages)
        {
            if (criteria.Matches(message))
                n++;
        }

        return n;
    }
}

/// <summary>
/// The LiteDB engine's read paths on a store of 20,000 2 KB messages in ten inboxes (inbox0 ... inbox9,
/// interleaved as they arrive): the newest 50 of an inbox, a subject search with one match, one message.
/// inbox0 sorts first and inbox9 last, which matters to the listing query.
/// </summary>
public class RepositoryBenchmarks
{
    private const int Stored = 20_000;
    private Store _store = null!;
    private string _someId = "";

    [Params("inbox0", "inbox9")]
    public string Inbox { get; set; } = "";

    [GlobalSetup]
    public async Task Setup()
    {
        _store = await Store.StartAsync();
        for (var start = 0; start < Stored; start += 200)
        {
            await Task.WhenAll(Enumerable.Range(start, 200).Select(n =>
            {
                var to = $"u{n / 10 % 100}@inbox{n % 10}.localhost";
                return _store.Ingest.IngestAsync(Messages.PlainText2K(n, to), Messages.Envelope with { RcptTo = [to] }, CancellationToken.None);
            }));
        }

        _someId = (await _store.Messages.ListAsync(Inbox, 1000, 1, null, default))[0].Id;
    }

    [GlobalCleanup]
    public async Task Cleanup() => await _store.DisposeAsync();

    [Benchmark]
    public async Task<int> List_newest_50() => (await _store.Messages.ListAsync(Inbox, 0, 50, null, default)).Count;

    [Benchmark]
    public async Task<int> Search_subject_one_match() =>
        (await _store.Messages.SearchAsync(Inbox, new SearchCriteria(null, null, $"code {(Stored / 2) + (Inbox[^1] - '0'):D7}", null), 0, 50, null, default)).Count;

    [Benchmark]
    public Task<StoredMessage?> Get_one() => _store.Messages.GetAsync(_someId, default);
}
