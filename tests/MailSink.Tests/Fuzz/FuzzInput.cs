namespace MailSink.Tests.Fuzz;

/// <summary>One generated or replayed input: its seed, its random source, and the corpus to mutate.</summary>
public sealed class FuzzInput(int seed, string? literal, IReadOnlyList<string> corpus)
{
    public int Seed { get; } = seed;

    /// <summary>Seeded by <see cref="Seed"/>: the same seed makes the same input.</summary>
    public Random Random { get; } = new(seed);

    /// <summary>A corpus file being replayed as it is; null for a generated input.</summary>
    public string? Literal { get; } = literal;

    /// <summary>Every corpus file of the harness, to mutate or splice.</summary>
    public IReadOnlyList<string> Corpus { get; } = corpus;

    /// <summary>The input as text, when the property records it: a failing one is saved to the corpus (MAILSINK_FUZZ_SAVE=1).</summary>
    public string? Recorded { get; private set; }

    /// <summary>Records the generated input, so that a failure can be kept as a corpus file.</summary>
    public void Record(string text) => Recorded = text;

    /// <summary>A corpus entry at random, or "" when the corpus is empty.</summary>
    public string PickCorpus() => Corpus.Count == 0 ? "" : Corpus[Random.Next(Corpus.Count)];
}
