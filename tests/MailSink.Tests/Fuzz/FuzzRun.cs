using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MailSink.Tests.Fuzz;

/// <summary>
/// A bounded fuzz loop with a seeded <see cref="System.Random"/>. It first replays the harness's corpus
/// (<c>Fuzz/corpus/&lt;harness&gt;/*.txt</c> as literal inputs, and the seeds listed in <c>seeds.txt</c>),
/// then runs fresh seeds until the time budget is spent: <c>MAILSINK_FUZZ_SECONDS</c> (default 3, what CI
/// runs). <c>MAILSINK_FUZZ_SEED</c> picks where fresh seeds start (a number, or <c>random</c>; default 0, so
/// CI is repeatable). The property returns the behaviours it saw (reply shapes, error kinds); with
/// <c>MAILSINK_FUZZ_SAVE=1</c> a seed that shows a behaviour nothing before it showed is appended to
/// <c>seeds.txt</c> in the source tree, and so is every seed that failed, to be committed.
/// </summary>
public static class FuzzRun
{
    /// <summary>Distinct kinds of failure after which a run stops early.</summary>
    private const int MaxFailures = 8;
    private const int MaxSavedSeeds = 25;
    private const int WarmUp = 200;

    public static TimeSpan Budget =>
        TimeSpan.FromSeconds(double.TryParse(Environment.GetEnvironmentVariable("MAILSINK_FUZZ_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 3);

    public static async Task RunAsync(string harness, ITestOutputHelper output, Func<FuzzInput, Task<IEnumerable<string>>> property)
    {
        var folder = CorpusFolder(harness);
        var corpus = Directory.GetFiles(folder, "*.txt")
            .Where(f => Path.GetFileName(f) != "seeds.txt")
            .Order(StringComparer.Ordinal)
            .Select(f => (Name: Path.GetFileName(f), Text: File.ReadAllText(f)))
            .ToList();
        var corpusTexts = corpus.Select(c => c.Text).ToList();
        var seedsFile = Path.Combine(folder, "seeds.txt");
        var knownSeeds = File.Exists(seedsFile) ? ReadSeeds(seedsFile) : [];

        var behaviours = new HashSet<string>(StringComparer.Ordinal);
        var failures = new Dictionary<string, Failure>(StringComparer.Ordinal);
        var newSeeds = new List<string>();
        var found = new List<(string Name, string Text)>();
        var clock = Stopwatch.StartNew();
        int iterations = 0, replayed = 0;

        async Task<bool> OneAsync(FuzzInput input, string label)
        {
            iterations++;
            try
            {
                var seen = await property(input);
                var fresh = seen.Count(behaviours.Add);
                return fresh > 0;
            }
            catch (Exception ex)
            {
                var kind = ex is FuzzFinding finding ? finding.Kind : $"{ex.GetType().Name}: {Shorten(ex.Message.Split('\n')[0], 120)}";
                if (failures.TryGetValue(kind, out var known))
                {
                    failures[kind] = known with { Count = known.Count + 1 };
                }
                else
                {
                    var detail = ex is Xunit.Sdk.XunitException or FuzzFinding ? ex.Message : ex.ToString();
                    failures[kind] = new Failure(label, Shorten(detail, 4000), 1);
                    if (input.Literal is null)
                    {
                        newSeeds.Add($"{input.Seed} # failed: {Shorten(kind, 100)}");
                        if (input.Recorded is not null)
                            found.Add(($"found-{input.Seed}.txt", input.Recorded));
                    }
                }

                return false;
            }
        }

        // The corpus always runs in full: it holds the inputs that found bugs.
        foreach (var (name, text) in corpus)
        {
            await OneAsync(new FuzzInput(0, text, corpusTexts), $"corpus file {harness}/{name}");
            replayed++;
        }

        foreach (var seed in knownSeeds)
        {
            await OneAsync(new FuzzInput(seed, null, corpusTexts), $"corpus seed {seed} ({harness}/seeds.txt)");
            replayed++;
        }

        var start = StartSeed();
        var budget = Budget;
        for (var i = 0; clock.Elapsed < budget && failures.Count < MaxFailures; i++)
        {
            var seed = unchecked(start + i);
            // The first inputs of a run each show something new; a seed is worth keeping when it still does later.
            if (await OneAsync(new FuzzInput(seed, null, corpusTexts), $"seed {seed}") && newSeeds.Count < MaxSavedSeeds && i >= WarmUp)
                newSeeds.Add($"{seed} # new behaviour");
        }

        var summary = string.Create(CultureInfo.InvariantCulture,
            $"fuzz {harness}: {iterations} inputs ({replayed} from the corpus, fresh seeds from {start}) in {clock.Elapsed.TotalSeconds:F1} s, " +
            $"{behaviours.Count} distinct behaviours, {failures.Count} failures");
        output.WriteLine(summary);
        foreach (var behaviour in behaviours.Order(StringComparer.Ordinal).Take(400))
            output.WriteLine("  seen: " + behaviour);

        if (Environment.GetEnvironmentVariable("MAILSINK_FUZZ_SAVE") == "1" && newSeeds.Count > 0)
        {
            var known = knownSeeds.ToHashSet();
            var lines = newSeeds.Where(l => !known.Contains(int.Parse(l.Split(' ')[0], CultureInfo.InvariantCulture))).ToList();
            File.AppendAllLines(seedsFile, lines);
            output.WriteLine($"appended {lines.Count} seeds to {seedsFile}");
            foreach (var (name, text) in found)
            {
                File.WriteAllText(Path.Combine(folder, name), text, new UTF8Encoding(false)); // a lone surrogate becomes U+FFFD
                output.WriteLine($"wrote the failing input {Path.Combine(folder, name)}");
            }
        }

        Assert.True(failures.Count == 0, $"{summary}:\n" + string.Join("\n\n", failures.Select(f => $"{f.Key} ({f.Value.Count} inputs), first {f.Value.Label}: {f.Value.Message}")));
    }

    private sealed record Failure(string Label, string Message, int Count);

    /// <summary>Text with control characters and invalid UTF-16 shown as escapes, for failure messages.</summary>
    public static string Show(string text)
    {
        var builder = new StringBuilder();
        foreach (var c in text)
        {
            if (c is '\\')
                builder.Append(@"\\");
            else if (char.IsControl(c) || char.IsSurrogate(c) || c is '\u2028' or '\u2029')
                builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            else
                builder.Append(c);
        }

        return Shorten(builder.ToString(), 2000);
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..max] + $"… ({text.Length} chars)";

    private static int StartSeed()
    {
        var value = Environment.GetEnvironmentVariable("MAILSINK_FUZZ_SEED");
        if (string.Equals(value, "random", StringComparison.OrdinalIgnoreCase))
            return Random.Shared.Next();
        return int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seed) ? seed : 0;
    }

    private static List<int> ReadSeeds(string path) =>
        File.ReadAllLines(path)
            .Select(l => l.Split('#')[0].Trim())
            .Where(l => l.Length > 0)
            .Select(l => int.Parse(l, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture))
            .Distinct()
            .ToList();

    /// <summary>
    /// <c>Fuzz/corpus/&lt;harness&gt;</c> in the source tree, found from the test output folder upwards (the
    /// corpus is read, and with MAILSINK_FUZZ_SAVE written, where it is committed).
    /// </summary>
    private static string CorpusFolder(string harness)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MailSink.Tests.csproj")))
            {
                var folder = Path.Combine(dir.FullName, "Fuzz", "corpus", harness);
                Directory.CreateDirectory(folder);
                return folder;
            }
        }

        throw new InvalidOperationException($"tests/MailSink.Tests (with Fuzz/corpus) is not above {AppContext.BaseDirectory}.");
    }
}
