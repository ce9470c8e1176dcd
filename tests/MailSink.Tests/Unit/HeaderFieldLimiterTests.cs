using System.Text;
using MailSink.Storage;

namespace MailSink.Tests.Unit;

public sealed class HeaderFieldLimiterTests
{
    private static readonly SmtpEnvelope Envelope = new("a@b.example", ["c@d.localhost"], null, null, null, null, false);

    [Fact]
    public void A_message_with_ordinary_headers_is_passed_through_without_a_copy()
    {
        ReadOnlyMemory<byte> raw = Encoding.ASCII.GetBytes("Subject: s\r\nX-Folded: a\r\n b\r\n\r\nbody\r\n");
        var limited = HeaderFieldLimiter.Limit(raw, out var cut);
        Assert.True(limited.Equals(raw));
        Assert.Empty(cut);
    }

    [Fact]
    public void An_oversized_folded_field_is_cut_at_a_line_end_and_the_rest_of_the_message_is_kept()
    {
        var huge = "X-Huge: " + string.Join("\r\n ", Enumerable.Repeat(new string('h', 70), 2000)) + "\r\n";
        var raw = Encoding.ASCII.GetBytes("From: a@b.example\r\n" + huge + "Subject: kept\r\n\r\nbody line\r\n");
        var limited = Encoding.ASCII.GetString(HeaderFieldLimiter.Limit(raw, out var cut, maxField: 1000).Span);

        Assert.Equal(["X-Huge"], cut);
        Assert.StartsWith("From: a@b.example\r\nX-Huge: hhh", limited);
        Assert.EndsWith("\r\nSubject: kept\r\n\r\nbody line\r\n", limited);
        Assert.True(limited.Length < 1200);
        Assert.DoesNotContain("\r\n\r\n\r\n", limited);
    }

    [Fact]
    public void The_parsed_view_of_a_megabyte_header_notes_the_cut_and_keeps_the_other_headers()
    {
        var huge = "X-Huge: " + string.Join("\r\n ", Enumerable.Repeat(new string('h', 70), 1024 * 1024 / 73)) + "\r\n";
        var raw = Encoding.ASCII.GetBytes(huge + "Subject: still parsed\r\n\r\nbody\r\n");
        var message = MessageParser.Parse(raw, Envelope);

        Assert.Equal("still parsed", message.Subject);
        Assert.Equal(["X-Huge", "Subject"], message.Headers.Select(h => h.Field));
        Assert.Contains("X-Huge", message.ParseError);
        Assert.Equal(raw.Length, message.Size); // the raw message is whole
        Assert.True(message.Headers[0].Value.Length < HeaderFieldLimiter.MaxFieldBytes);
    }
}
