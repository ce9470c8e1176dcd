namespace MailSink.Tests.Fuzz;

/// <summary>
/// A property that does not hold, with a kind (such as "search 500") under which a run counts it: inputs of
/// the same kind are one finding, so that a long run goes on looking for other kinds.
/// </summary>
public sealed class FuzzFinding(string kind, string detail) : Exception($"{kind}: {detail}")
{
    public string Kind { get; } = kind;
}
