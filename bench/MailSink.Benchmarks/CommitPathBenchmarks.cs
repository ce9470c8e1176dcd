using BenchmarkDotNet.Attributes;
using LiteDB;
using MailSink.Storage;
using MailSink.Storage.Analysis;
using MailSink.Storage.LiteDb;
using MailSink.Storage.Mime;

namespace MailSink.Benchmarks;

/// <summary>
/// Two steps of storing a message, each beside what it replaced (issue 17): the message document as BSON
/// (LiteDB's mapper, reflecting and then dropping the defaults, against <see cref="MessageBson"/>), and a new
/// id (<see cref="Guid.CreateVersion7()"/>, a system call for its random bits, against <see cref="TimeOrderedId"/>).
/// </summary>
public class CommitPathBenchmarks
{
    private readonly BsonMapper _mapper = DocumentMapper.Create();
    private MessageDocument _document = null!;

    [GlobalSetup]
    public void Setup()
    {
        var message = MessageParser.Parse(Messages.PlainText2K(), Messages.Envelope);
        ContentAnalyzer.Analyze(message);
        _document = MessageDocument.Of(message);
        _document.Id = TimeOrderedId.NewVersion7().ToString();
        _document.Key = MessageDocument.MakeKey("bench", DateTime.UtcNow.Ticks);
        _document.RawData = new byte[700];
    }

    [Benchmark(Baseline = true)]
    public BsonDocument Document_by_the_mapper() => _mapper.ToDocument(_document);

    [Benchmark]
    public BsonDocument Document_by_hand() => MessageBson.Of(_document);

    [Benchmark]
    public Guid Id_by_Guid_CreateVersion7() => Guid.CreateVersion7();

    [Benchmark]
    public Guid Id_by_TimeOrderedId() => TimeOrderedId.NewVersion7();
}
