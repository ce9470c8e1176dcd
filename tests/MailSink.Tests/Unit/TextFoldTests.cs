using System.Text;
using MailSink.Storage.PostgreSql;

namespace MailSink.Tests.Unit;

/// <summary>
/// PostgreSQL compares folded text ordinally; that must answer exactly as OrdinalIgnoreCase does in .NET
/// (what <see cref="MailSink.Storage.SearchCriteria"/> and the LiteDB engine use), character by character.
/// </summary>
public sealed class TextFoldTests
{
    [Fact]
    public void Folding_equates_exactly_what_OrdinalIgnoreCase_equates_for_every_code_point()
    {
        var wrong = new List<string>();
        for (var code = 0; code <= 0x10FFFF; code++)
        {
            if (code is >= 0xD800 and <= 0xDFFF || code == 0)
                continue;
            var s = char.ConvertFromUtf32(code);
            // A character folds to one it equals, and so do its upper and lower cases: the same fold exactly when equal.
            foreach (var other in new[] { s.ToUpperInvariant(), s.ToLowerInvariant(), TextFold.Fold(s) })
            {
                if (string.Equals(s, other, StringComparison.OrdinalIgnoreCase) != (TextFold.Fold(s) == TextFold.Fold(other)))
                    wrong.Add($"U+{code:X4} and {string.Join(" ", other.Select(c => $"U+{(int)c:X4}"))}");
            }

            if (TextFold.Fold(s).Length != s.Length)
                wrong.Add($"U+{code:X4} folds to another length");
        }

        Assert.True(wrong.Count == 0, string.Join("; ", wrong.Take(20)));
    }

    [Fact]
    public void Contains_on_folded_text_is_OrdinalIgnoreCase_contains_for_every_exact_needle()
    {
        var random = new Random(3);
        const string alphabet = "aAbBsSkKiIſıİ\u212AßẞΩωΣσςéÉ😀𐐀𐐨%_\\ ";
        string Text(int max)
        {
            var builder = new StringBuilder();
            var elements = System.Globalization.StringInfo.GetTextElementEnumerator(alphabet);
            var pieces = new List<string>();
            while (elements.MoveNext())
                pieces.Add((string)elements.Current);
            for (var i = random.Next(max + 1); i > 0; i--)
                builder.Append(pieces[random.Next(pieces.Count)]);
            return builder.ToString();
        }

        for (var i = 0; i < 50_000; i++)
        {
            var text = Text(12);
            var needle = Text(3);
            if (needle.Length == 0 || !TextFold.IsExact(needle))
                continue;
            Assert.True(
                text.Contains(needle, StringComparison.OrdinalIgnoreCase) == TextFold.Fold(text).Contains(TextFold.Fold(needle), StringComparison.Ordinal),
                $"'{needle}' in '{text}'");
        }
    }

    [Fact]
    public void What_PostgreSQL_cannot_hold_is_replaced_and_needles_holding_it_are_inexact()
    {
        Assert.Equal("a\uFFFDb\uFFFD😀\uFFFD", TextFold.Storable("a\0b\uD83D😀\uDE00"));
        Assert.Same("plain", TextFold.Storable("plain"));
        Assert.False(TextFold.IsExact("\uD83D"));
        Assert.False(TextFold.IsExact("a\0"));
        Assert.False(TextFold.IsExact("\uFFFD"));
        Assert.True(TextFold.IsExact("😀 ſ"));
        Assert.Equal(["ab", "cd😀"], TextFold.ExactPieces("ab\uD83Dcd😀\0"));
        Assert.Equal(@"%50\%\_off\\%", TextFold.Contains(@"50%_off\"));
        Assert.Equal("TEXT\uFFFDHTML", TextFold.FoldBodies("text", "html"));
    }
}
