using System.Diagnostics;
using MailSink.Storage;

namespace MailSink.Tests.Fuzz;

/// <summary>
/// The content harness keeps its inputs small, so this pins what it cannot hit at full strength: the cost of
/// nesting. A timing, so it runs alone: in parallel with the rest of the suite it would both disturb other
/// tests (it is CPU-bound for seconds while the bug stands) and be disturbed by them.
/// </summary>
[Collection(nameof(DeepHtmlTests))]
[CollectionDefinition(nameof(DeepHtmlTests), DisableParallelization = true)]
public sealed class DeepHtmlTests(ITestOutputHelper output)
{
    /// <summary>
    /// The parser of a browser caps nesting (Chromium at 512 levels) because its tree builder looks through the
    /// stack of open elements for every tag. AngleSharp does not, so 40,000 nested &lt;div&gt;s (240 KB, well
    /// under the 1 MiB that the analyzer scans) took 3 to 10 s here, and 1 MB over two minutes of CPU on the SMTP
    /// session's path before the <c>250</c>. Here 25,000 levels (150 KB): about 2 s, where a flat document of the
    /// same size takes some 30 ms.
    /// </summary>
    [Fact]
    public void Deeply_nested_html_is_analysed_in_about_the_time_of_flat_html()
    {
        var nested = new StoredMessage { Html = string.Concat(Enumerable.Repeat("<div>x", 25_000)) };
        var flat = new StoredMessage { Html = string.Concat(Enumerable.Repeat("<p>xy</p>", 16_667)) };
        ContentAnalyzer.Analyze(new StoredMessage { Html = "<div>warm up</div>" });

        var clock = Stopwatch.StartNew();
        ContentAnalyzer.Analyze(flat);
        var flatTime = clock.Elapsed;
        clock.Restart();
        ContentAnalyzer.Analyze(nested);
        var nestedTime = clock.Elapsed;

        output.WriteLine($"flat {flat.Html.Length} chars: {flatTime.TotalMilliseconds:F0} ms; nested {nested.Html.Length} chars: {nestedTime.TotalMilliseconds:F0} ms");
        Assert.True(nestedTime < TimeSpan.FromSeconds(0.5) + (flatTime * 10),
            $"25,000 nested elements took {nestedTime.TotalMilliseconds:F0} ms, flat HTML of the same size {flatTime.TotalMilliseconds:F0} ms");
    }
}
