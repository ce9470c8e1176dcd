using System.Text;

namespace MailSink.Tests.Fuzz;

/// <summary>
/// Text mutations in the manner of a dictionary fuzzer: flip, insert, delete, duplicate and splice, with
/// the characters that break parsers (NUL, CR, lone surrogates, BOM, direction marks, combining marks,
/// case-folding oddities such as 'ſ' and 'ı') and a harness's own dictionary of tokens.
/// </summary>
public static class Mutator
{
    /// <summary>Characters that have broken text handling somewhere.</summary>
    public static readonly string[] Nasty =
    [
        "\0", "\r", "\n", "\r\n", "\t", "\u001b", "\u007f", "\u0085", "\u00a0", "\u00ad", "\u200b", "\u200d", "\u2028",
        "\u202e", "\ufeff", "\ufffd", "\ud800", "\udfff", "\ud83d\ude00", "\u0301", "ſ", "ı", "İ", "ß", "\u212a", "ﬁ",
        "\uff21", "\u0661", "\"", "\\", "'", "<", ">", "@", ",", ":", ";", "=", " ", "%", "&", "#", "[", "]", "{", "}",
        "\\u0000", "\\ud800", "&#0;", "&amp;", "\u4e2d\u6587", "A", "0",
    ];

    /// <summary>1 to 8 mutations of <paramref name="text"/>, using <paramref name="dictionary"/> and the <paramref name="other"/> text to splice.</summary>
    public static string Mutate(Random random, string text, IReadOnlyList<string> dictionary, string other = "")
    {
        var builder = new StringBuilder(text);
        var count = 1 + random.Next(8);
        for (var m = 0; m < count; m++)
        {
            var at = builder.Length == 0 ? 0 : random.Next(builder.Length + 1);
            switch (random.Next(9))
            {
                case 0: // replace one character
                    if (builder.Length > 0)
                        builder[Math.Min(at, builder.Length - 1)] = (char)random.Next(0, 0x3000);
                    break;
                case 1:
                    builder.Insert(at, Nasty[random.Next(Nasty.Length)]);
                    break;
                case 2:
                    if (dictionary.Count > 0)
                        builder.Insert(at, dictionary[random.Next(dictionary.Count)]);
                    break;
                case 3: // delete a range
                    if (builder.Length > 0)
                    {
                        var from = Math.Min(at, builder.Length - 1);
                        builder.Remove(from, Math.Min(builder.Length - from, 1 + random.Next(16)));
                    }

                    break;
                case 4: // duplicate a range, sometimes many times
                    if (builder.Length > 0)
                    {
                        var from = Math.Min(at, builder.Length - 1);
                        var piece = builder.ToString(from, Math.Min(builder.Length - from, 1 + random.Next(32)));
                        var times = random.Next(4) == 0 ? random.Next(2, 200) : 1;
                        builder.Insert(from, string.Concat(Enumerable.Repeat(piece, times)));
                    }

                    break;
                case 5: // splice in a piece of another input
                    if (other.Length > 0)
                    {
                        var from = random.Next(other.Length);
                        builder.Insert(at, other.AsSpan(from, Math.Min(other.Length - from, 1 + random.Next(64))));
                    }

                    break;
                case 6: // truncate
                    builder.Length = Math.Min(builder.Length, at);
                    break;
                case 7: // swap case of a range
                    for (var i = at; i < Math.Min(builder.Length, at + 1 + random.Next(8)); i++)
                        builder[i] = char.IsUpper(builder[i]) ? char.ToLowerInvariant(builder[i]) : char.ToUpperInvariant(builder[i]);
                    break;
                default: // a random printable ASCII run
                    builder.Insert(at, RandomAscii(random, 1 + random.Next(8)));
                    break;
            }
        }

        return builder.ToString();
    }

    public static string RandomAscii(Random random, int length) =>
        string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
                span[i] = (char)r.Next(0x20, 0x7f);
        });

    /// <summary>Any UTF-16 code units, lone surrogates included.</summary>
    public static string RandomChars(Random random, int length) =>
        string.Create(length, random, (span, r) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = r.Next(4) switch
                {
                    0 => (char)r.Next(0, 0x80),
                    1 => (char)r.Next(0x80, 0x800),
                    2 => Nasty[r.Next(Nasty.Length)][0],
                    _ => (char)r.Next(0, 0x10000),
                };
            }
        });

    public static T Pick<T>(this Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];
}
