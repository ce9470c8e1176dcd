using System.Globalization;

namespace MailSink.Api.Analysis.Deliverability;

/// <summary>
/// Organisational domains (RFC 7489 3.2) from the Public Suffix List, embedded (MPL 2.0): the public suffix
/// a domain ends with (the longest rule, wildcards and exceptions as the list's algorithm says, the last
/// label when no rule matches) and one label more.
/// </summary>
public static class PublicSuffixes
{
    private static readonly Lazy<Rules> Loaded = new(Load);

    private sealed record Rules(HashSet<string> Exact, HashSet<string> Wildcards, HashSet<string> Exceptions);

    /// <summary><c>mail.example.co.uk</c> → <c>example.co.uk</c>; a public suffix itself is its own.</summary>
    public static string OrganisationalDomain(string domain)
    {
        var labels = domain.Trim().Trim('.').ToLowerInvariant().Split('.');
        var suffix = SuffixLabels(labels, Loaded.Value);
        return labels.Length <= suffix ? string.Join('.', labels) : string.Join('.', labels[^(suffix + 1)..]);
    }

    /// <summary>How many of the domain's last labels are its public suffix.</summary>
    private static int SuffixLabels(string[] labels, Rules rules)
    {
        var longest = 1; // the implicit "*" rule
        for (var i = 0; i < labels.Length; i++)
        {
            var candidate = string.Join('.', labels[i..]);
            var count = labels.Length - i;
            if (rules.Exceptions.Contains(candidate))
                return count - 1; // an exception rule wins, and its suffix is the rule without its first label
            if (rules.Exact.Contains(candidate) || (count > 1 && rules.Wildcards.Contains(string.Join('.', labels[(i + 1)..]))))
                longest = Math.Max(longest, count);
        }

        return longest;
    }

    private static Rules Load()
    {
        var idn = new IdnMapping();
        string Ascii(string rule)
        {
            try
            {
                return System.Text.Ascii.IsValid(rule) ? rule : idn.GetAscii(rule);
            }
            catch (ArgumentException)
            {
                return rule;
            }
        }

        using var stream = typeof(PublicSuffixes).Assembly.GetManifestResourceStream("public_suffix_list.dat")
                           ?? throw new InvalidOperationException("public_suffix_list.dat is not embedded.");
        using var reader = new StreamReader(stream);
        var rules = new Rules(new(StringComparer.Ordinal), new(StringComparer.Ordinal), new(StringComparer.Ordinal));
        while (reader.ReadLine() is { } line)
        {
            line = line.Trim().ToLowerInvariant();
            if (line.Length == 0 || line.StartsWith("//", StringComparison.Ordinal))
                continue;
            if (line.StartsWith('!'))
                rules.Exceptions.Add(Ascii(line[1..]));
            else if (line.StartsWith("*.", StringComparison.Ordinal))
                rules.Wildcards.Add(Ascii(line[2..]));
            else
                rules.Exact.Add(Ascii(line));
        }

        return rules;
    }
}
