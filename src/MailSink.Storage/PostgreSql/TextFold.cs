using System.Buffers;
using System.Text;

namespace MailSink.Storage.PostgreSql;

/// <summary>
/// Text as PostgreSQL can hold it, and folded so that an ordinal comparison in the database answers as
/// <see cref="StringComparison.OrdinalIgnoreCase"/> does in .NET.
/// <para>
/// PostgreSQL text cannot hold NUL, nor a lone UTF-16 surrogate (it is UTF-8). <see cref="Storable"/> puts
/// U+FFFD in their place, which is what System.Text.Json (and LiteDB's BSON) already does with a lone surrogate.
/// A needle holding NUL, U+FFFD or a lone surrogate is therefore not <see cref="IsExact">exact</see> in the
/// database: search uses it there only to narrow the candidates and decides in .NET.
/// </para>
/// <para>
/// <see cref="Fold"/> is <see cref="string.ToUpperInvariant"/>, which maps every character (and surrogate
/// pair) to the same upper case as OrdinalIgnoreCase does, with one exception measured over every code point:
/// LATIN SMALL LETTER LONG S (U+017F) upper-cases to 'S' but is not equal to 's' under OrdinalIgnoreCase,
/// so it keeps itself. Folding is one character for one, so "contains" and "equals" carry over.
/// </para>
/// </summary>
internal static class TextFold
{
    /// <summary>What takes the place of what PostgreSQL cannot hold, and what separates the text and HTML bodies in a fold.</summary>
    public const char Replacement = '\uFFFD';

    private const char LongS = '\u017F';

    /// <summary><paramref name="value"/> with NUL and lone surrogates replaced by U+FFFD (the same instance when it has none).</summary>
    public static string Storable(string value)
    {
        var at = FirstUnstorable(value);
        if (at < 0)
            return value;
        var builder = new StringBuilder(value);
        for (var i = at; i < builder.Length; i++)
        {
            var c = builder[i];
            if (c == '\0')
                builder[i] = Replacement;
            else if (char.IsHighSurrogate(c) && i + 1 < builder.Length && char.IsLowSurrogate(builder[i + 1]))
                i++;
            else if (char.IsSurrogate(c))
                builder[i] = Replacement;
        }

        return builder.ToString();
    }

    /// <summary>The folded, storable form of <paramref name="value"/>; "" for null.</summary>
    public static string Fold(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return "";
        var upper = Storable(value).ToUpperInvariant();
        var longS = value.IndexOf(LongS);
        if (longS < 0)
            return upper;
        return string.Create(upper.Length, (upper, value), static (span, state) =>
        {
            state.upper.AsSpan().CopyTo(span);
            for (var i = state.value.IndexOf(LongS); i >= 0 && i < span.Length; i = state.value.IndexOf(LongS, i + 1))
                span[i] = LongS;
        });
    }

    /// <summary>The fold of the text and HTML bodies, U+FFFD between them (no exact needle holds it, so none spans both).</summary>
    public static string FoldBodies(string? text, string? html) =>
        text is null ? Fold(html) : html is null ? Fold(text) : string.Concat(Fold(text), Replacement.ToString(), Fold(html));

    /// <summary>Whether a needle means in the database what it means in .NET: it holds no NUL, no U+FFFD and no lone surrogate.</summary>
    public static bool IsExact(string needle) => FirstUnstorable(needle) < 0 && !needle.Contains(Replacement);

    /// <summary>
    /// The longest pieces of <paramref name="needle"/> that are exact: every one of them is in any text that
    /// holds the needle, so they narrow the candidates of an inexact needle.
    /// </summary>
    public static IEnumerable<string> ExactPieces(string needle)
    {
        var start = 0;
        for (var i = 0; i <= needle.Length; i++)
        {
            var c = i < needle.Length ? needle[i] : '\0';
            if (i < needle.Length && char.IsHighSurrogate(c) && i + 1 < needle.Length && char.IsLowSurrogate(needle[i + 1]))
            {
                i++;
                continue;
            }

            if (i == needle.Length || c == '\0' || c == Replacement || char.IsSurrogate(c))
            {
                if (i > start)
                    yield return needle[start..i];
                start = i + 1;
            }
        }
    }

    /// <summary>A LIKE pattern that finds <paramref name="folded"/> anywhere, with <c>%</c>, <c>_</c> and <c>\</c> escaped.</summary>
    public static string Contains(string folded)
    {
        var pattern = new StringBuilder(folded.Length + 2).Append('%');
        foreach (var c in folded)
        {
            if (c is '%' or '_' or '\\')
                pattern.Append('\\');
            pattern.Append(c);
        }

        return pattern.Append('%').ToString();
    }

    // NUL and every surrogate: a body is searched for them vectorised, and only what is found is looked at.
    private static readonly SearchValues<char> Special = SearchValues.Create(
        "\0" + string.Concat(Enumerable.Range(0xD800, 0x800).Select(c => (char)c)));

    private static int FirstUnstorable(string value)
    {
        var i = value.AsSpan().IndexOfAny(Special);
        while (i >= 0)
        {
            var c = value[i];
            if (c != '\0' && char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                i += 2; // a pair: storable
            else
                return i;
            var next = value.AsSpan(i).IndexOfAny(Special);
            i = next < 0 ? -1 : i + next;
        }

        return -1;
    }
}
