using BenchmarkDotNet.Attributes;
using MailSink.Storage;
using MailSink.Storage.Analysis;
using MailSink.Storage.Mime;

namespace MailSink.Benchmarks;

/// <summary>What ingest does to every message before storage: one MIME parse, then links, images and codes.</summary>
public class ParseBenchmarks
{
    private byte[] _raw = [];

    [Params("2 KB text", "20 KB alternative", "100 KB attachment", "100 KB smtp-source", "25 MB attachment")]
    public string Message { get; set; } = "";

    [GlobalSetup]
    public void Setup() => _raw = Messages.Get(Message);

    [Benchmark]
    public StoredMessage Parse() => MessageParser.Parse(_raw, Messages.Envelope);

    [Benchmark]
    public StoredMessage ParseAndAnalyze()
    {
        var message = MessageParser.Parse(_raw, Messages.Envelope);
        ContentAnalyzer.Analyze(message);
        return message;
    }
}
