using System.Text;
using MailSink.Storage;

namespace MailSink.Tests.Unit;

/// <summary>The copy of a message the MIME parser reads: long fields cut, a missing blank line put back.</summary>
public sealed class HeaderSectionTests
{
    private static readonly SmtpEnvelope Envelope = new("a@b.example", ["c@d.localhost"], null, null, null, null, false);

    [Fact]
    public void A_message_with_ordinary_headers_is_passed_through_without_a_copy()
    {
        ReadOnlyMemory<byte> raw = Encoding.ASCII.GetBytes("Subject: s\r\nX-Folded: a\r\n b\r\n\r\nbody\r\n");
        var limited = HeaderSection.ForParser(raw, out var cut, out _);
        Assert.True(limited.Equals(raw));
        Assert.Empty(cut);
    }

    [Fact]
    public void An_oversized_folded_field_is_cut_at_a_line_end_and_the_rest_of_the_message_is_kept()
    {
        var huge = "X-Huge: " + string.Join("\r\n ", Enumerable.Repeat(new string('h', 70), 2000)) + "\r\n";
        var raw = Encoding.ASCII.GetBytes("From: a@b.example\r\n" + huge + "Subject: kept\r\n\r\nbody line\r\n");
        var limited = Encoding.ASCII.GetString(HeaderSection.ForParser(raw, out var cut, out _, maxField: 1000).Span);

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
        Assert.True(message.Headers[0].Value.Length < HeaderSection.MaxFieldBytes);
    }

    [Theory]
    [InlineData("From: a@b.example\r\nSubject: x\r\nthis is not a header line\r\nmore body\r\n", "this is not a header line", "this is not a header line\nmore body\n")]
    [InlineData("Subject: x\nHello there, no blank line\n", "Hello there, no blank line", "Hello there, no blank line\n")]
    [InlineData("Subject: x\r\nX-Folded: a\r\n b\r\nDear customer: your order\r\n", "Dear customer: your order", "Dear customer: your order\n")]
    [InlineData("Subject: x\r\nTo: c@d.localhost\r\nFrom my iPhone\r\n", "From my iPhone", "From my iPhone\n")]
    [InlineData("Subject: x\r\nFrom the team: welcome\r\nsecond\r\n", "From the team: welcome", "From the team: welcome\nsecond\n")]
    public void A_body_that_follows_the_headers_without_a_blank_line_is_the_body_and_flagged(string raw, string stray, string text)
    {
        var message = MessageParser.Parse(Encoding.UTF8.GetBytes(raw), Envelope);

        Assert.Equal("x", message.Subject);
        Assert.Equal(text, message.Text);
        Assert.DoesNotContain(message.Headers, h => h.Field.Contains(' ', StringComparison.Ordinal) || h.Field.Contains('\n', StringComparison.Ordinal));
        Assert.Equal($"The header section has no blank line before the body: the body was taken to start at the line '{stray}', which is not a header field.", message.ParseError);
        Assert.Equal(text, MessageParser.ReadContent(Encoding.UTF8.GetBytes(raw)).Text); // a full read gives what ingest stored
    }

    [Theory]
    [InlineData("Subject : obsolete but a header\r\n\r\nbody\r\n")] // RFC 5322 4.5.3: space before the colon
    [InlineData("From sender@example.com Sat Nov 28 10:00:00 2026\r\nSubject: x\r\n\r\nbody\r\n")] // an mbox "From " line
    [InlineData("X-Empty:\r\nSubject: x\r\n\r\nbody\r\n")]
    [InlineData("Subject: x\r\nS\u00fcbject: 8-bit name, taken as MimeKit takes it\r\nTo: c@d.localhost\r\n\r\nbody\r\n")]
    public void Header_sections_that_end_properly_are_passed_through_as_they_are(string raw)
    {
        ReadOnlyMemory<byte> bytes = Encoding.UTF8.GetBytes(raw);
        var parsed = HeaderSection.ForParser(bytes, out _, out var stray);

        Assert.Null(stray);
        Assert.True(parsed.Equals(bytes));
    }

    [Fact]
    public void A_message_without_any_header_is_left_to_the_parser_as_before()
    {
        ReadOnlyMemory<byte> bytes = Encoding.UTF8.GetBytes("hello, typed by hand\r\n");
        Assert.True(HeaderSection.ForParser(bytes, out _, out var stray).Equals(bytes));
        Assert.Null(stray);
    }

    /// <summary>
    /// A message stored before header sections ended at a stray line had its attachments numbered without that:
    /// the part asked for by its stored number and type is still the one found.
    /// </summary>
    [Fact]
    public void An_attachment_numbered_before_the_header_section_ended_at_its_stray_line_is_still_found()
    {
        var raw = Encoding.ASCII.GetBytes(string.Join("\r\n",
            "Subject: x", "a stray line", "Content-Type: multipart/mixed; boundary=b", "",
            "--b", "Content-Type: text/plain", "", "hi",
            "--b", "Content-Type: application/pdf", "Content-Disposition: attachment; filename=a.pdf", "", "%PDF-1.4",
            "--b--", ""));
        var numberedThen = MimeKit.MimeMessage.Load(new MemoryStream(HeaderSection.ForParser(raw, out _, out _, endAtStrayLine: false).ToArray()))
            .BodyParts.ToList().FindIndex(p => p.ContentType.MimeType == "application/pdf");
        var numberedNow = MessageParser.Parse(raw, Envelope).Attachments.SingleOrDefault(a => a.ContentType == "application/pdf")?.PartIndex;
        Assert.True(numberedThen >= 0);
        Assert.NotEqual(numberedNow, numberedThen); // what makes this test worth having

        Assert.Equal("application/pdf", MessageParser.FindPart(raw, numberedThen, "application/pdf")!.ContentType.MimeType);
        if (numberedNow is { } now)
            Assert.Equal("application/pdf", MessageParser.FindPart(raw, now, "application/pdf")!.ContentType.MimeType);
    }
}
