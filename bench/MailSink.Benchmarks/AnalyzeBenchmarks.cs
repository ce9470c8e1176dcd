using BenchmarkDotNet.Attributes;
using MailSink.Storage;
using MailSink.Storage.Analysis;
using MailSink.Storage.Mime;

namespace MailSink.Benchmarks;

/// <summary>
/// Content analysis alone (links, images and one-time codes), on bodies parsed once: the part of
/// <see cref="ParseBenchmarks.ParseAndAnalyze"/> that is not MIME parsing.
/// </summary>
public class AnalyzeBenchmarks
{
    private StoredMessage _parsed = new();

    [Params("2 KB text", "20 KB alternative", "100 KB smtp-source")]
    public string Message { get; set; } = "";

    [GlobalSetup]
    public void Setup() => _parsed = MessageParser.Parse(Messages.Get(Message), Messages.Envelope);

    [Benchmark]
    public StoredMessage Analyze()
    {
        var message = new StoredMessage { Text = _parsed.Text, Html = _parsed.Html };
        ContentAnalyzer.Analyze(message);
        return message;
    }
}
