using MailSink.Storage;

namespace MailSink.Tests.Unit;

/// <summary>Someone else's text quoted in a reply, an error or a log line: printable, one line, short.</summary>
public sealed class QuotedTextTests
{
    [Fact]
    public void Printable_replaces_control_characters_and_shortens()
    {
        Assert.Equal("a?b?c", QuotedText.Printable("a\rb\u0000c"));
        Assert.Equal("abcd…", QuotedText.Printable("abcdefgh", max: 4));
        Assert.Equal("abcd", QuotedText.Printable("abcd", max: 4));
    }

    [Fact]
    public void Printable_never_cuts_an_emoji_in_half()
    {
        var printable = QuotedText.Printable(new string('a', 63) + "\ud83c\udf89 and more");

        Assert.Equal(new string('a', 63) + "…", printable);
        Assert.Equal("ab\ud83c\udf89…", QuotedText.Printable("ab\ud83c\udf89cd", max: 4));
    }

    [Fact]
    public void Format_characters_that_reorder_text_are_hidden_too() =>
        Assert.Equal("a?b", QuotedText.Printable("a\u202Eb"));
}
